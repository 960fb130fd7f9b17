//go:build ignore

// Command client submits one add-checkpoint request with transparency-dev's
// witness client (github.com/transparency-dev/witness/client/http) and
// prints how that client classified the answer. scripts/witness-interop.sh
// builds it in a scratch module, outside this module's go.mod.
//
//	client URL < REQUEST
//
// REQUEST is a C2SP tlog-witness add-checkpoint body. It prints "ok" and
// the cosignature lines, or "refused NAME SIZE" where NAME is the
// witness package's error the client returned.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	whttp "github.com/transparency-dev/witness/client/http"
	"github.com/transparency-dev/witness/witness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run() error {
	u, err := url.Parse(os.Args[1])
	if err != nil {
		return err
	}
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	r := bufio.NewReader(bytes.NewReader(body))
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	old, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "old ")), 10, 64)
	if err != nil {
		return err
	}
	var proof [][]byte
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\n" {
			break
		}
		h, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return err
		}
		proof = append(proof, h)
	}
	cp, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	sigs, size, err := whttp.NewWitness(u, http.DefaultClient).Update(context.Background(), old, cp, proof)
	if err == nil {
		fmt.Printf("ok\n%s", sigs)
		return nil
	}
	for _, e := range []struct {
		name string
		err  error
	}{
		{"ErrCheckpointStale", witness.ErrCheckpointStale},
		{"ErrRootMismatch", witness.ErrRootMismatch},
		{"ErrUnknownLog", witness.ErrUnknownLog},
		{"ErrNoValidSignature", witness.ErrNoValidSignature},
		{"ErrOldSizeInvalid", witness.ErrOldSizeInvalid},
		{"ErrInvalidProof", witness.ErrInvalidProof},
	} {
		if errors.Is(err, e.err) {
			fmt.Printf("refused %s %d\n", e.name, size)
			return nil
		}
	}
	return err
}
