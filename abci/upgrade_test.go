package abci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func govTx(seq uint64, body *notaryv1.TxBody) []byte {
	body.Sequence = seq
	return identity.SignTx(testChain, key("gov"), body)
}

// scheduleUpgrade passes, with the one genesis ministry, a plan for name at
// height; the proposal and its vote are in block at.
func scheduleUpgrade(t *testing.T, a *Application, at int64, name string, height int64) {
	t.Helper()
	propose := govTx(0, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: "hacienda", Title: "Upgrade " + name,
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ScheduleUpgrade{
			ScheduleUpgrade: &notaryv1.UpgradePlan{Name: name, Height: height, Info: "release notes"},
		}},
	}}})
	vote := govTx(1, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
		MinistryId: "hacienda", ProposalId: 1, Option: notaryv1.VoteOption_VOTE_OPTION_YES,
	}}})
	fin := block(t, a, at, propose, vote)
	for i, r := range fin.TxResults {
		if r.Code != 0 {
			t.Fatalf("tx %d: %s", i, r.Log)
		}
	}
}

// finalize runs FinalizeBlock alone (the block is decided elsewhere).
func finalize(a *Application, height int64, txs ...[]byte) (*abcitypes.ResponseFinalizeBlock, error) {
	tm := t0.Add(time.Duration(height) * time.Second)
	return a.FinalizeBlock(context.Background(), &abcitypes.RequestFinalizeBlock{
		Txs: txs, Height: height, Time: tm, Hash: []byte(fmt.Sprintf("block %d", height)),
	})
}

// An unknown upgrade stops the block at its height, every time, without
// changing the state; a binary that knows it migrates and continues, and
// the upgrade is not applied twice.
func TestUpgradeHalt(t *testing.T) {
	dir := t.TempDir()
	a := openApp(t, dir)
	initChain(t, a)
	block(t, a, 1)
	const target = 1 + 1 + ledger.UpgradeMinDelay
	scheduleUpgrade(t, a, 2, "v2", target)
	for h := int64(3); h < target; h++ {
		block(t, a, h, anchorTx(uint64(h-3), digestsOf(fmt.Sprint("before", h), 2)))
	}
	height, hash, _ := a.LastCommit()

	// The old binary: stopped at the height, twice (a restart halts again).
	// The first time, the proposal is executed optimistically before.
	for i := range 2 {
		var called *notaryv1.UpgradePlan
		a.opts.UpgradeNeeded = func(p *notaryv1.UpgradePlan) { called = p }
		tx := anchorTx(uint64(target-3), digestsOf("at", 2))
		if i == 0 {
			tm := t0.Add(time.Duration(target) * time.Second)
			_, err := a.ProcessProposal(context.Background(), &abcitypes.RequestProcessProposal{
				Txs: [][]byte{tx}, Height: target, Time: tm, Hash: []byte(fmt.Sprintf("block %d", target)),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err := finalize(a, target, tx)
		var uerr *UpgradeNeededError
		if !errors.As(err, &uerr) || uerr.Plan.Name != "v2" {
			t.Fatalf("FinalizeBlock at the upgrade height: %v", err)
		}
		if called == nil || called.Name != "v2" || called.Height != target {
			t.Fatalf("UpgradeNeeded called with %v", called)
		}
		if h, hh, _ := a.LastCommit(); h != height || !bytes.Equal(hh, hash) {
			t.Fatalf("state moved: %d %X", h, hh)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		a = openApp(t, dir)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// The new binary.
	opts := DefaultOptions(dir, testChain)
	runs := 0
	opts.Upgrades = map[string]ledger.UpgradeHandler{"v2": func(st ledger.Store, p *notaryv1.UpgradePlan) error {
		runs++
		return st.Set([]byte("upgtest/v2"), []byte(p.Info))
	}}
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	fin := block(t, a, target, anchorTx(uint64(target-3), digestsOf("at", 2)))
	if fin.TxResults[0].Code != 0 {
		t.Fatalf("anchor at the upgrade height: %s", fin.TxResults[0].Log)
	}
	applied := false
	for _, ev := range fin.Events {
		applied = applied || ev.Type == ledger.EventUpgradeApplied
	}
	if !applied || runs != 1 {
		t.Fatalf("applied event %v, runs %d", applied, runs)
	}
	block(t, a, target+1)
	if runs != 1 {
		t.Fatalf("migration ran %d times", runs)
	}
	view, err := a.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := view.Get([]byte("upgtest/v2")); string(v) != "release notes" {
		t.Fatalf("migration key %q", v)
	}
	done, err := ledger.LoadUpgradeDone(view, "v2")
	if err != nil || done == nil || done.Height != target {
		t.Fatalf("done record %v %v", done, err)
	}
	if plan, _ := ledger.LoadUpgradePlan(view); plan != nil {
		t.Fatalf("plan still scheduled: %v", plan)
	}
}
