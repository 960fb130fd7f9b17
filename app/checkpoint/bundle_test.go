package checkpoint_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestBundleLog: what a trust bundle carries of the log is the latest valid
// checkpoint with its validators (names from the state, ministry id
// order) and the params' witness policy; a checkpoint short of the
// threshold's cosignatures is left out, with the reason; a registered
// witness's line that does not verify refuses the note, as a verifier
// does.
func TestBundleLog(t *testing.T) {
	c := newChain(t, 1)
	url, vkey := startWitness(t, "witness.audit.example/w1", t.TempDir()+"/state.json")
	ws, err := checkpoint.NewWitnesses(c.notes(), c.a.LogTiles().HashReader, []app.WitnessConfig{{URL: url, Key: vkey}}, cmtlog.NewNopLogger(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c.anchor("a")
	st, err := c.a.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	// No valid checkpoint yet.
	l, err := checkpoint.BundleLogOf(chainID, st.Get, nil)
	if err != nil || l == nil || l.Checkpoint != nil || !strings.Contains(l.Missing, "no valid checkpoint") {
		t.Fatalf("before a checkpoint: %+v %v", l, err)
	}
	c.signAll(1)
	b, ok, err := stepUntil(t, ws, 1)
	if err != nil || !ok {
		t.Fatalf("Latest: %v", err)
	}
	st, err = c.a.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	params, err := ledger.LoadParams(st)
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := witness.GenerateKey("witness.uni.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	// b with a line of the other witness's key that does not verify.
	ov, err := verify.ParseWitnessKey(other)
	if err != nil {
		t.Fatal(err)
	}
	sig := binary.BigEndian.AppendUint32(nil, ov.KeyHash())
	sig = append(sig, make([]byte, 8+ed25519.SignatureSize)...)
	badLine := append(bytes.Clone(b), fmt.Sprintf("— %s %s\n", ov.Name(), base64.StdEncoding.EncodeToString(sig))...)
	for _, tc := range []struct {
		name      string
		witnesses []*notaryv1.Witness
		threshold uint32
		note      []byte // default b
		want      bool
		cosigners int
		err       bool
	}{
		{name: "no witnesses", want: true},
		{name: "one registered, threshold 1", witnesses: []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}}, threshold: 1, want: true, cosigners: 1},
		{name: "two registered, threshold 2", witnesses: []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}, {Name: "Universidad", Key: other}}, threshold: 2},
		{name: "another registered, threshold 1", witnesses: []*notaryv1.Witness{{Name: "Universidad", Key: other}}, threshold: 1},
		{name: "a registered witness's bad line", witnesses: []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}, {Name: "Universidad", Key: other}}, threshold: 1, note: badLine, err: true},
		{name: "an unregistered witness's bad line", witnesses: []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}}, threshold: 1, note: badLine, want: true, cosigners: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proto.Clone(params).(*notaryv1.Params)
			p.Witnesses, p.WitnessThreshold = tc.witnesses, tc.threshold
			get := func(k []byte) ([]byte, error) {
				if bytes.Equal(k, ledger.ParamsKey()) {
					return ledger.Encode(p), nil
				}
				return st.Get(k)
			}
			n := tc.note
			if n == nil {
				n = b
			}
			l, err := checkpoint.BundleLogOf(chainID, get, n)
			if tc.err {
				if err == nil {
					t.Fatalf("no error: %+v", l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Witnesses) != len(tc.witnesses) || l.WitnessThreshold != tc.threshold {
				t.Fatalf("policy %v %d", l.Witnesses, l.WitnessThreshold)
			}
			if !tc.want {
				if l.Checkpoint != nil || !strings.Contains(l.Missing, "cosignatures of") {
					t.Fatalf("a checkpoint short of the threshold: %+v", l)
				}
				return
			}
			if !bytes.Equal(l.Checkpoint, n) || l.Size != 1 || len(l.Cosigners) != tc.cosigners || l.Missing != "" {
				t.Fatalf("bundle log %+v", l)
			}
			if len(l.Validators) != len(ministries) {
				t.Fatalf("%d validators", len(l.Validators))
			}
			for i, v := range l.Validators {
				if i > 0 && v.MinistryId <= l.Validators[i-1].MinistryId || v.Name != "Ministerio de "+v.MinistryId || v.Power != 10 || !bytes.Equal(v.PubKey, pubOf(key("cons/"+v.MinistryId))) {
					t.Fatalf("validators %v", l.Validators)
				}
			}
		})
	}
}
