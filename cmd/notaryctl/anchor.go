package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/ledger"
)

// Outcomes of one file in anchor's result.
const (
	outcomeAnchored = "anchored"
	outcomeExisting = "already_anchored"
	outcomeFailed   = "failed"
)

// receiptWorkers is how many receipts anchor fetches at once.
const receiptWorkers = 8

// anchorItem is what happened to one file.
type anchorItem struct {
	Path    string `json:"path"`
	Outcome string `json:"outcome"`
	// Code is the verification code the file is anchored under, if any.
	Code     string        `json:"code,omitempty"`
	Document *documentView `json:"document,omitempty"`
	Batch    *batchView    `json:"batch,omitempty"`
	Receipt  string        `json:"receipt,omitempty"`
	Error    string        `json:"error,omitempty"`

	unavailable bool
}

// anchorResult is the anchor command's result.
type anchorResult struct {
	Files           []*anchorItem `json:"files"`
	Anchored        int           `json:"anchored"`
	AlreadyAnchored int           `json:"already_anchored"`
	Failed          int           `json:"failed"`
}

// ExitCode: 1 if a file failed (4 if every failure was the node being
// unreachable), else 5 if a file was already anchored, else 0.
func (r *anchorResult) ExitCode() int {
	if r.Failed > 0 {
		for _, f := range r.Files {
			if f.Outcome == outcomeFailed && !f.unavailable {
				return cli.ExitFailure
			}
		}
		return cli.ExitUnavail
	}
	if r.AlreadyAnchored > 0 {
		return exitAlreadyAnchored
	}
	return cli.ExitOK
}

func (r *anchorResult) Text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range r.Files {
		switch f.Outcome {
		case outcomeFailed:
			fmt.Fprintf(tw, "failed\t%s\t%s\n", safe(f.Path), safetext.Escape(f.Error))
		default:
			what := "anchored"
			if f.Outcome == outcomeExisting {
				what = "already anchored"
			}
			fmt.Fprintf(tw, "%s\t%s\theight %d, %s, batch %s leaf %d\treceipt %s\n",
				what, safe(f.Path), f.Batch.Height, stamp(f.Batch.Time), safe(f.Batch.ID), f.Batch.Leaf, safe(f.Receipt))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d %s: %d anchored, %d already anchored, %d failed\n",
		len(r.Files), plural(len(r.Files), "file", "files"), r.Anchored, r.AlreadyAnchored, r.Failed)
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func newAnchorCmd() *cobra.Command {
	var (
		out, label, code, manifest string
		bare                       bool
	)
	cmd := &cobra.Command{
		Use:   "anchor PATH... | --code CODE FILE | --codes MANIFEST",
		Short: "anchor files (folders recursively) and write their receipts",
		Long: `anchor hashes each file (folders are walked recursively; *.receipt.json files
are skipped), anchors the digests in batches and writes each file's v1
receipt beside it as <file>.receipt.json, or under --out DIR (a file found
in a folder keeps its path relative to that folder). The documents never
leave this machine.

By default the value anchored is a salted commitment of the digest (the salt
comes from the agency's salt key and goes into the receipt), so that a
guessable document cannot be found on chain; --bare anchors the digest
itself.

--code CODE anchors one file under a verification code (from ` + "`notaryctl code new`" + `,
printed on the document): the value anchored is the code's key and a tag of
the document made with the code's salt (a scrypt of some 50 ms), and the
chain indexes it under the key (neither reveals the code), so that
` + "`verifier code CODE`" + ` and the web verifier find it. --codes MANIFEST anchors
many: one "file,code" line per document (a file relative to the manifest's
folder; blank lines and lines starting with # are skipped). Every line is
checked (file readable, code well formed, no file or code twice) before
anything is sent; a bad line stops the command (exit 2) with its number.
A code already used for another document fails that file.

A file anchored before is reported with its original record (height and
time, unchanged) and its receipt is written again with a fresh status.
Every input is read, and every receipt's folder checked (created if
missing, writable, the receipt's path not a folder), before anything is
anchored: a missing or unreadable file or a receipt that could not be
written stops the command (exit 2) with nothing anchored. On a terminal, a
progress bar on stderr shows the work for many files.

Exit codes: 0 every file newly anchored; 5 none failed but some were already
anchored; 1 some failed (4 if only because the node was unreachable);
2 usage error or unreadable file.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			alg, err := algorithmOf(cmd)
			if err != nil {
				return nil, err
			}
			files, err := anchorInputs(args, out, code, manifest, bare)
			if err != nil {
				return nil, err
			}
			receipts := make([]string, len(files))
			for i, f := range files {
				receipts[i] = f.Receipt
			}
			if err := checkReceiptPaths(receipts); err != nil {
				return nil, fmt.Errorf("%w; nothing was anchored", err)
			}
			opts := []client.Option{client.WithAlgorithm(alg)}
			if bare {
				opts = append(opts, client.WithBareDigests())
			}
			if label != "" {
				opts = append(opts, client.WithLabel(label))
			}
			s, err := connect(cmd, opts...)
			if err != nil {
				return nil, err
			}
			defer s.close()
			return anchorFiles(s, files, newProgress(cmd.ErrOrStderr(), len(files)))
		}),
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write the receipts into this folder instead of beside the files")
	f.BoolVar(&bare, "bare", false, "anchor the documents' digests themselves, not salted commitments")
	f.StringVar(&code, "code", "", "anchor the one FILE under this verification code")
	f.StringVar(&manifest, "codes", "", `anchor the files of a manifest of "file,code" lines, each under its code`)
	f.StringVar(&label, "label", "", "label of the batches (free text, at most the chain's max_label_bytes)")
	addAlgorithmFlag(cmd)
	return cmd
}

// anchorFiles hashes every file, anchors them all (the client batches them),
// and fetches and writes the receipts as the results come in.
func anchorFiles(s *session, files []inputFile, bar *progress) (*anchorResult, error) {
	docs, err := prepareDocuments(s, files, bar)
	if err != nil {
		return nil, err
	}

	res := &anchorResult{Files: make([]*anchorItem, len(files))}
	pend := make([]*client.Pending, len(files))
	for i, f := range files {
		dv := viewDocument(docs[i])
		res.Files[i] = &anchorItem{Path: f.Path, Code: f.Code.String(), Document: &dv}
		p, err := s.c.AnchorAsync(s.ctx, docs[i])
		if err != nil {
			res.Files[i].fail(err)
			continue
		}
		pend[i] = p
	}
	s.c.Flush()

	bar.start("anchoring")
	work := make(chan int)
	var wg sync.WaitGroup
	for range receiptWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				item := res.Files[i]
				r, err := s.c.Receipt(s.ctx, docs[i])
				if err == nil {
					err = writeReceipt(files[i].Receipt, r)
				}
				if err != nil {
					item.fail(fmt.Errorf("anchored, but no receipt: %w", err))
				} else {
					item.Receipt = files[i].Receipt
				}
				bar.add(1)
			}
		}()
	}
	for i, p := range pend {
		if p == nil {
			bar.add(1)
			continue
		}
		item := res.Files[i]
		a, err := p.Wait(s.ctx)
		if err != nil {
			item.fail(err)
			bar.add(1)
			continue
		}
		bv := viewAnchored(a)
		item.Batch = &bv
		item.Outcome = outcomeAnchored
		if a.Existing {
			item.Outcome = outcomeExisting
		}
		work <- i
	}
	close(work)
	wg.Wait()
	bar.finish()
	for _, f := range res.Files {
		switch f.Outcome {
		case outcomeAnchored:
			res.Anchored++
		case outcomeExisting:
			res.AlreadyAnchored++
		default:
			res.Failed++
		}
	}
	return res, nil
}

// fail records a failure of the item.
func (it *anchorItem) fail(err error) {
	it.Outcome = outcomeFailed
	it.Error = errorText(err)
	it.unavailable = client.IsUnavailable(err) || errors.Is(err, client.ErrClosed)
}

// prepareDocuments hashes the files and makes their Documents, on every
// core: a coded document's code tag is a scrypt of some 50 ms. After an
// error no other file is started; the first error in file order is
// returned.
func prepareDocuments(s *session, files []inputFile, bar *progress) ([]client.Document, error) {
	alg := s.c.Options().Algorithm
	docs := make([]client.Document, len(files))
	errs := make([]error, len(files))
	bar.start("hashing")
	defer bar.finish()
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if docs[i], errs[i] = prepareDocument(s, alg, files[i]); errs[i] != nil {
					failed.Store(true)
				}
				bar.add(1)
			}
		}()
	}
	for i := range files {
		if failed.Load() {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// prepareDocument hashes a file and makes its Document: under its code,
// or salted with the identity's salt key.
func prepareDocument(s *session, alg ledger.HashAlgorithm, f inputFile) (client.Document, error) {
	d, err := hashFile(s.ctx, alg, f.Path)
	if err != nil {
		return client.Document{}, err
	}
	if !f.Code.IsZero() {
		sec := f.Code.Derive()
		doc, err := s.c.CodedDocument(d, sec.Salt[:], sec.Key[:])
		if err != nil {
			return client.Document{}, cli.Usage("%s: %w", f.Path, err)
		}
		return doc, nil
	}
	doc, err := s.c.Document(d)
	if err != nil {
		return client.Document{}, cli.Usage("%w (use --bare, or an agency identity)", err)
	}
	return doc, nil
}
