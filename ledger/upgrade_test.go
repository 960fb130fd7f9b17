package ledger

import (
	"errors"
	"strings"
	"testing"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func actSchedule(name string, height int64) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ScheduleUpgrade{
		ScheduleUpgrade: &notaryv1.UpgradePlan{Name: name, Height: height, Info: "notaryd v2"},
	}}
}

func actCancel(name string) *notaryv1.ProposalAction {
	return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_CancelUpgrade{CancelUpgrade: name}}
}

func TestValidUpgradeName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"v2", true},
		{"v2.1.0", true},
		{"0-fix", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{".v2", false},
		{"-v2", false},
		{"V2", false},
		{"v2_1", false},
		{"v 2", false},
		{"v2/x", false},
	} {
		if got := ValidUpgradeName(tc.name); got != tc.ok {
			t.Errorf("ValidUpgradeName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestScheduleUpgradeBadInput(t *testing.T) {
	h := newGovHarness(t, govGenesis(10, 10, 10, 10))
	h.runOK() // height 1
	at := h.height
	for _, tc := range []struct {
		name string
		a    *notaryv1.ProposalAction
		want *Error
		msg  string
	}{
		{name: "past height", a: actSchedule("v2", at-1), want: ErrInvalidUpgrade, msg: "is past"},
		{name: "current height", a: actSchedule("v2", at), want: ErrInvalidUpgrade, msg: "is past"},
		{name: "too soon", a: actSchedule("v2", at+UpgradeMinDelay-1), want: ErrInvalidUpgrade, msg: "too soon"},
		{name: "zero height", a: actSchedule("v2", 0), want: ErrInvalidUpgrade, msg: "positive"},
		{name: "upper case", a: actSchedule("V2", at+20), want: ErrInvalidUpgrade, msg: "[a-z0-9.-]"},
		{name: "empty name", a: actSchedule("", at+20), want: ErrInvalidUpgrade, msg: "[a-z0-9.-]"},
		{name: "leading dot", a: actSchedule(".v2", at+20), want: ErrInvalidUpgrade, msg: "[a-z0-9.-]"},
		{name: "no plan", a: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ScheduleUpgrade{}}, want: ErrInvalidUpgrade, msg: "[a-z0-9.-]"},
		{name: "cancel bad name", a: actCancel("v2 final"), want: ErrInvalidUpgrade, msg: "[a-z0-9.-]"},
		{name: "cancel none", a: actCancel("v2"), want: ErrUpgradeNotFound, msg: "no upgrade is scheduled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := h.block(h.propose("hacienda", tc.a))[0]
			mustFail(t, out, tc.want)
			if !strings.Contains(out.Err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", out.Err, tc.msg)
			}
		})
	}
	// The proposal id is set by the chain.
	a := actSchedule("v2", h.height+20)
	a.GetScheduleUpgrade().ProposalId = 7
	mustFail(t, h.block(h.propose("hacienda", a))[0], ErrInvalidProposal)
}

func TestScheduleUpgrade(t *testing.T) {
	h := newGovHarness(t, govGenesis(10, 10, 10, 10))
	target := h.height + 30
	id, _, end := h.enactPassed(actSchedule("v2", target))
	plan, err := LoadUpgradePlan(h.st)
	if err != nil || plan == nil {
		t.Fatalf("plan: %v %v", plan, err)
	}
	if plan.Name != "v2" || plan.Height != target || plan.ProposalId != id || plan.Info != "notaryd v2" {
		t.Fatalf("plan %v", plan)
	}
	if !findEvent(end.Events, EventUpgradeScheduled, "name", "v2") {
		t.Errorf("no %s event in %v", EventUpgradeScheduled, end.Events)
	}
	// A newer plan replaces it.
	id2, _, end := h.enactPassed(actSchedule("v3", target+5))
	plan, _ = LoadUpgradePlan(h.st)
	if plan.Name != "v3" || plan.ProposalId != id2 {
		t.Fatalf("plan after replacement %v", plan)
	}
	if !findEvent(end.Events, EventUpgradeScheduled, "name", "v3", "replaces", "v2") {
		t.Errorf("scheduled event does not name the replaced plan: %v", end.Events)
	}
	// Cancelling another name fails; cancelling it removes it.
	mustFail(t, h.block(h.propose("hacienda", actCancel("v2")))[0], ErrUpgradeNotFound)
	h.enactPassed(actCancel("v3"))
	if plan, _ := LoadUpgradePlan(h.st); plan != nil {
		t.Fatalf("plan after cancel %v", plan)
	}
}

// A plan whose height is reached before the proposal passes fails.
func TestScheduleUpgradePassesTooLate(t *testing.T) {
	h := newGovHarness(t, govGenesis(10, 10, 10, 10))
	target := h.height + UpgradeMinDelay
	id := h.nextID()
	h.runOK(h.propose("hacienda", actSchedule("v2", target)), h.vote("hacienda", id, yes))
	for h.height <= target {
		h.runOK()
	}
	h.runOK(h.vote("interior", id, yes), h.vote("sanidad", id, yes))
	p := h.proposal(id)
	if p.Status != failed || !strings.Contains(p.Result, "not in the future") {
		t.Fatalf("status %s result %q", p.Status, p.Result)
	}
	if plan, _ := LoadUpgradePlan(h.st); plan != nil {
		t.Fatalf("plan stored: %v", plan)
	}
}

func TestApplyUpgrade(t *testing.T) {
	h := newGovHarness(t, govGenesis(10, 10, 10, 10))
	target := h.height + 20
	h.enactPassed(actSchedule("v2", target))
	for _, height := range []int64{h.height, target - 1} {
		if due, err := UpgradeDue(h.st, height); err != nil || due != nil {
			t.Fatalf("due at %d: %v %v", height, due, err)
		}
	}
	plan, err := UpgradeDue(h.st, target)
	if err != nil || plan == nil || plan.Name != "v2" {
		t.Fatalf("due at %d: %v %v", target, plan, err)
	}

	// A failing migration writes nothing.
	boom := errors.New("boom")
	_, err = ApplyUpgrade(h.st, plan, target, func(st Store, _ *notaryv1.UpgradePlan) error {
		if err := st.Set([]byte("upgtest/x"), []byte{1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ApplyUpgrade: %v", err)
	}
	if v, _ := h.st.Get([]byte("upgtest/x")); v != nil {
		t.Fatal("a failed migration left a write")
	}
	if p, _ := LoadUpgradePlan(h.st); p == nil {
		t.Fatal("a failed migration removed the plan")
	}

	ev, err := ApplyUpgrade(h.st, plan, target, func(st Store, p *notaryv1.UpgradePlan) error {
		return st.Set([]byte("upgtest/x"), []byte(p.Name))
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != EventUpgradeApplied || attr(&ev, "name") != "v2" {
		t.Errorf("event %v", ev)
	}
	if v, _ := h.st.Get([]byte("upgtest/x")); string(v) != "v2" {
		t.Fatalf("migration key %q", v)
	}
	done, err := LoadUpgradeDone(h.st, "v2")
	if err != nil || done == nil || done.Height != target {
		t.Fatalf("done %v %v", done, err)
	}
	if due, _ := UpgradeDue(h.st, target); due != nil {
		t.Fatalf("still due after it was applied: %v", due)
	}
	// An applied name cannot be scheduled again.
	for h.height < target+1 {
		h.runOK()
	}
	mustFail(t, h.block(h.propose("hacienda", actSchedule("v2", h.height+20)))[0], ErrInvalidUpgrade)
}

func attr(ev *Event, key string) string {
	for _, a := range ev.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}
