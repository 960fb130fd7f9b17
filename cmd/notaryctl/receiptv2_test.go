package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// TestReceiptVersion: on a node whose log has no signed checkpoint (a
// test node runs no checkpoint signer), receipt --version 2 fails with the
// node's advice to retry and writes nothing; a bad version, and a version
// other than the existing receipt's, are usage errors that keep the
// receipt. (testnet's TestReceiptV2 writes and renews v2 receipts on a
// network that signs checkpoints.)
func TestReceiptVersion(t *testing.T) {
	e := startNode(t)
	doc := e.file(t, "v2.txt", "certificado para un recibo v2\n")
	e.agency(t, "anchor", doc).want(t, cli.ExitOK)
	v1 := doc + receiptSuffix
	before, err := os.ReadFile(v1)
	if err != nil {
		t.Fatal(err)
	}

	v2 := filepath.Join(e.dir, "v2.receipt.json")
	r := e.agency(t, "receipt", doc, "--version", "2", "--receipt", v2).want(t, cli.ExitFailure)
	if !strings.Contains(r.stderr, "try again in a few blocks") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if _, err := os.Stat(v2); err == nil {
		t.Fatal("a refused v2 receipt was written")
	}
	e.agency(t, "receipt", doc, "--version", "3", "--receipt", v2).want(t, cli.ExitUsage)
	r = e.agency(t, "receipt", doc, "--version", "2").want(t, cli.ExitUsage)
	if !strings.Contains(r.stderr, "v1 receipt, not v2") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if after, _ := os.ReadFile(v1); string(after) != string(before) {
		t.Fatal("the v1 receipt changed")
	}
	e.agency(t, "receipt", doc, "--version", "1").want(t, cli.ExitOK)
}
