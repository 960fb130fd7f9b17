package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// exchangeResult is the exchange record command's result.
type exchangeResult struct {
	Requester string `json:"requester_agency_id"`
	Provider  string `json:"provider_agency_id"`
	Subject   string `json:"subject"`
	Category  string `json:"category"`
	Purpose   string `json:"purpose"`
	ConsentID string `json:"consent_id,omitempty"`
	MandateID string `json:"mandate_id,omitempty"`
	// Reference is the salted digest of the case file, if one was given.
	Reference string `json:"reference,omitempty"`
	// ProviderConfirmed says whether the provider's confirmation was
	// attached: without it the entry says the requester alone declared it.
	ProviderConfirmed bool `json:"provider_confirmed"`
	// DryRun is set when nothing was recorded (--dry-run).
	DryRun bool `json:"dry_run,omitempty"`
	// Index is the entry's index in the subject's access history.
	Index  uint64 `json:"index"`
	Height int64  `json:"height"`
	TxHash string `json:"tx_hash"`
}

func (r *exchangeResult) Text(w io.Writer) error {
	basis := "consent " + safe(r.ConsentID)
	if r.MandateID != "" {
		basis = "mandate " + safe(r.MandateID)
	}
	if r.DryRun {
		fmt.Fprintf(w, "exchange not recorded (--dry-run): subject %s\n", safe(r.Subject))
	} else {
		fmt.Fprintf(w, "exchange recorded at height %d: entry %d of subject %s's access history\n", r.Height, r.Index, safe(r.Subject))
	}
	fmt.Fprintf(w, "  %s from %s: %s for %s, under %s\n", safe(r.Requester), safe(r.Provider), safe(r.Category), safe(r.Purpose), basis)
	if r.ProviderConfirmed {
		fmt.Fprintf(w, "  confirmed by %s\n", safe(r.Provider))
	} else {
		fmt.Fprintf(w, "  declared by %s alone: not confirmed by %s (see exchange confirm)\n", safe(r.Requester), safe(r.Provider))
	}
	if r.Reference != "" {
		fmt.Fprintf(w, "  reference  %s\n", safe(r.Reference))
	}
	if r.DryRun {
		return nil
	}
	_, err := fmt.Fprintf(w, "  tx         %s\n", safe(r.TxHash))
	return err
}

func newExchangeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exchange",
		Short: "data exchanges between agencies",
	}
	cmd.AddCommand(newExchangeRecordCmd(), newExchangeConfirmCmd())
	return cmd
}

// exchangeBasis are the flags that give an exchange's basis and reference.
type exchangeBasis struct {
	consent, mandate, refDigest string
}

func (b *exchangeBasis) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.consent, "consent", "", "id of the citizen's consent that covers the exchange")
	cmd.Flags().StringVar(&b.mandate, "mandate", "", "id of the legal mandate that covers the exchange")
	cmd.Flags().StringVar(&b.refDigest, "reference-digest", "", "the reference as recorded on chain: 64 hex characters (the requester's salted digest of its case file)")
}

// fill sets m's basis and, from --reference-digest, its reference.
func (b *exchangeBasis) fill(m *notaryv1.RecordExchange) error {
	if (b.consent == "") == (b.mandate == "") {
		return cli.Usage("give exactly one basis: --consent ID or --mandate ID")
	}
	if b.consent != "" {
		m.Basis = &notaryv1.RecordExchange_ConsentId{ConsentId: b.consent}
	} else {
		m.Basis = &notaryv1.RecordExchange_MandateId{MandateId: b.mandate}
	}
	if b.refDigest != "" {
		d, err := hex.DecodeString(b.refDigest)
		if err != nil || len(d) != ledger.DigestSize {
			return cli.Usage("--reference-digest %q: want %d bytes as hex", b.refDigest, ledger.DigestSize)
		}
		m.Reference = d
	}
	return nil
}

func newExchangeRecordCmd() *cobra.Command {
	var (
		f                 exchangeFlags
		b                 exchangeBasis
		refFile, confFile string
		dryRun            bool
	)
	cmd := &cobra.Command{
		Use:   "record --provider B --subject S --category C --purpose P --consent ID|--mandate ID [--reference FILE] [--confirmation FILE]",
		Short: "record that this agency obtained a citizen's data from another agency",
		Long: `exchange record logs, on chain, that this agency obtained data of a category
about the citizen with subject id S from agency B for a purpose, under the
citizen's consent (--consent) or a registered legal mandate (--mandate). The
chain accepts it only if that basis is in force and covers the exchange; the
citizen sees it in their access history. No data goes on chain; --reference
adds a salted digest of the agency's own case file (hashed here), which only
this agency can link to the file (--reference-digest gives that value
itself).

With --confirmation, the file agency B wrote with ` + "`notaryctl exchange confirm`" + `
for this very exchange is attached: the entry then says that B confirmed
it. Without it the entry says that this agency alone declared it, and the
citizen is told so. --dry-run prints the exchange, with its reference
value for B to confirm, and records nothing.

Exit codes: 0 recorded; 1 refused (not covered, unknown basis, no exchange
permission, a confirmation that does not hold or was used before); 2 usage
error; 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			subject, err := f.check()
			if err != nil {
				return nil, err
			}
			msg := &notaryv1.RecordExchange{ProviderAgencyId: f.provider, Subject: subject, Category: f.category, Purpose: f.purpose}
			if err := b.fill(msg); err != nil {
				return nil, err
			}
			if refFile != "" && b.refDigest != "" {
				return nil, cli.Usage("give --reference FILE or --reference-digest HEX, not both")
			}
			var refDigest []byte
			if refFile != "" {
				t, err := parseTarget(refFile)
				if err != nil {
					return nil, err
				}
				if t.Path == "" {
					return nil, cli.Usage("--reference %s: no such file", refFile)
				}
				if refDigest, err = t.document(cmd.Context(), client.SHA256); err != nil {
					return nil, err
				}
			}
			var conf *confirmationFile
			if confFile != "" {
				if conf, err = readConfirmation(confFile); err != nil {
					return nil, err
				}
			}
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			if s.id.Role != identity.RoleAgency {
				return nil, cli.Usage("exchange record needs an agency identity, not a %s's (%s)", s.id.Role, s.id.Dir())
			}
			msg.RequesterAgencyId = s.id.ID
			if refDigest != nil {
				doc, err := s.c.Document(refDigest)
				if err != nil {
					return nil, cli.Usage("--reference: %w", err)
				}
				msg.Reference = doc.Anchored
			}
			res := &exchangeResult{Requester: s.id.ID, Provider: f.provider, Subject: hex.EncodeToString(subject),
				Category: f.category, Purpose: f.purpose, ConsentID: b.consent, MandateID: b.mandate,
				Reference: hex.EncodeToString(msg.Reference), DryRun: dryRun}
			var pc *notaryv1.ProviderConfirmation
			if conf != nil {
				if pc, err = conf.check(confFile, s.id.ChainID, msg); err != nil {
					return nil, err
				}
				res.ProviderConfirmed = true
			}
			if dryRun {
				return res, nil
			}
			resp, err := s.c.RecordExchange(s.ctx, msg, pc)
			if err != nil {
				return nil, s.fail(fmt.Errorf("exchange record: %w", err))
			}
			res.Index = resp.GetResult().GetExchangeIndex()
			res.Height = resp.GetHeight()
			res.TxHash = hex.EncodeToString(resp.GetTxHash())
			return res, nil
		}),
	}
	f.register(cmd, false)
	b.register(cmd)
	cmd.Flags().StringVar(&refFile, "reference", "", "the agency's case file; its salted digest is recorded")
	cmd.Flags().StringVar(&confFile, "confirmation", "", "the provider's confirmation of this exchange (written by `notaryctl exchange confirm`)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the exchange (and its reference value) without recording it")
	return cmd
}

// confirmationFile is what `exchange confirm` writes: the exchange as the
// provider signed it and its signature.
type confirmationFile struct {
	ChainID string `json:"chain_id"`
	// Exchange is the RecordExchange signed, in protobuf JSON.
	Exchange json.RawMessage `json:"exchange"`
	// PubKey and Signature (hex) are the provider's confirmation.
	PubKey    string `json:"pub_key"`
	Signature string `json:"signature"`

	exchange *notaryv1.RecordExchange
	conf     *notaryv1.ProviderConfirmation
}

// maxConfirmationFile bounds a confirmation file.
const maxConfirmationFile = 64 << 10

func readConfirmation(path string) (*confirmationFile, error) {
	b, err := readSmallFile(path, maxConfirmationFile)
	if err != nil {
		return nil, cli.Usage("--confirmation: %w", err)
	}
	var c confirmationFile
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, cli.Usage("--confirmation %s: not a confirmation file: %w", path, err)
	}
	c.exchange = &notaryv1.RecordExchange{}
	if err := protojson.Unmarshal(c.Exchange, c.exchange); err != nil {
		return nil, cli.Usage("--confirmation %s: exchange: %w", path, err)
	}
	pub, err1 := hex.DecodeString(c.PubKey)
	sig, err2 := hex.DecodeString(c.Signature)
	if err1 != nil || err2 != nil {
		return nil, cli.Usage("--confirmation %s: pub_key and signature must be hex", path)
	}
	c.conf = &notaryv1.ProviderConfirmation{PubKey: pub, Signature: sig}
	return &c, nil
}

// check returns the confirmation if it is for exchange m on chainID.
func (c *confirmationFile) check(path, chainID string, m *notaryv1.RecordExchange) (*notaryv1.ProviderConfirmation, error) {
	if c.ChainID != chainID {
		return nil, cli.Usage("--confirmation %s is for chain %q, this identity signs for %q", path, c.ChainID, chainID)
	}
	if !proto.Equal(c.exchange, m) {
		return nil, cli.Usage("--confirmation %s confirms another exchange (%s); this one is %s",
			path, describeExchange(c.exchange), describeExchange(m))
	}
	if err := client.CheckConfirmation(chainID, m, c.conf); err != nil {
		return nil, cli.Usage("--confirmation %s: %w", path, err)
	}
	return c.conf, nil
}

// describeExchange names an exchange in messages.
func describeExchange(m *notaryv1.RecordExchange) string {
	basis := "consent " + m.GetConsentId()
	if m.GetMandateId() != "" {
		basis = "mandate " + m.GetMandateId()
	}
	ref := "no reference"
	if len(m.Reference) > 0 {
		ref = "reference " + hex.EncodeToString(m.Reference)
	}
	return fmt.Sprintf("%s from %s about %x: %s for %s, under %s, %s", m.RequesterAgencyId, m.ProviderAgencyId, m.Subject, m.Category, m.Purpose, basis, ref)
}

// confirmResult is the exchange confirm command's result.
type confirmResult struct {
	File     string `json:"file"`
	ChainID  string `json:"chain_id"`
	Provider string `json:"provider_agency_id"`
	Exchange string `json:"exchange"`
}

func (r *confirmResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "confirmation of the exchange %s written to %s (chain %s)\ngive it to the requester: notaryctl exchange record ... --confirmation %s\n",
		r.Exchange, r.File, r.ChainID, r.File)
	return err
}

func newExchangeConfirmCmd() *cobra.Command {
	var (
		b                                     exchangeBasis
		requester, subject, category, purpose string
		out                                   string
	)
	cmd := &cobra.Command{
		Use:   "confirm --requester A --subject S --category C --purpose P --consent ID|--mandate ID [--reference-digest HEX] --out FILE",
		Short: "confirm, as the providing agency, an exchange another agency records",
		Long: `exchange confirm signs, with this agency's key, that it provided agency A
with data of a category about the citizen with subject id S for a purpose,
under the given consent or mandate (and the requester's reference value, if
it records one: ` + "`notaryctl exchange record --dry-run`" + ` prints it). It writes
the confirmation to FILE and sends nothing: agency A attaches it with
` + "`notaryctl exchange record --confirmation FILE`" + `, and the citizen's history
then shows the exchange as confirmed by this agency. A confirmation is good
for one exchange, on this identity's chain, and only while this key is the
agency's registered key.

Exit codes: 0 written; 2 usage error (bad flags, not an agency identity,
FILE exists).`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			for _, x := range []struct{ name, v string }{{"--requester", requester}, {"--subject", subject}, {"--category", category}, {"--purpose", purpose}} {
				if x.v == "" {
					return nil, cli.Usage("%s is required", x.name)
				}
			}
			for _, x := range []struct{ name, v string }{{"--requester", requester}, {"--category", category}, {"--purpose", purpose}} {
				if !ledger.ValidID(x.v) {
					return nil, cli.Usage("%s %q: codes and ids are 1..64 of [a-z0-9-]", x.name, x.v)
				}
			}
			sub, err := parseSubject(subject)
			if err != nil {
				return nil, err
			}
			if out == "" {
				return nil, cli.Usage("--out FILE is required: where to write the confirmation")
			}
			if _, err := os.Lstat(out); err == nil {
				return nil, cli.Usage("--out %s exists; choose another file", out)
			}
			id, err := loadIdentity(cmd)
			if err != nil {
				return nil, err
			}
			if id.Role != identity.RoleAgency {
				return nil, cli.Usage("exchange confirm needs the providing agency's identity, not a %s's (%s)", id.Role, id.Dir())
			}
			msg := &notaryv1.RecordExchange{RequesterAgencyId: requester, ProviderAgencyId: id.ID, Subject: sub, Category: category, Purpose: purpose}
			if err := b.fill(msg); err != nil {
				return nil, err
			}
			pc := id.ConfirmExchange(msg)
			ex, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(msg)
			if err != nil {
				return nil, err
			}
			body, err := json.MarshalIndent(confirmationFile{ChainID: id.ChainID, Exchange: ex,
				PubKey: hex.EncodeToString(pc.PubKey), Signature: hex.EncodeToString(pc.Signature)}, "", "  ")
			if err != nil {
				return nil, err
			}
			fh, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return nil, cli.Usage("--out: %w", err)
			}
			if _, err := fh.Write(append(body, '\n')); err != nil {
				_ = fh.Close()
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("--out: %w", err))
			}
			if err := fh.Close(); err != nil {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("--out: %w", err))
			}
			return &confirmResult{File: out, ChainID: id.ChainID, Provider: id.ID, Exchange: describeExchange(msg)}, nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&requester, "requester", "", "the agency that obtained the data and records the exchange (required)")
	fl.StringVar(&subject, "subject", "", "the citizen's subject id (64 hex characters), or a citizen identity directory (required)")
	fl.StringVar(&category, "category", "", "data category, e.g. tax, health (required)")
	fl.StringVar(&purpose, "purpose", "", "purpose, e.g. eligibility-check (required)")
	b.register(cmd)
	fl.StringVar(&out, "out", "", "file to write the confirmation to (required; must not exist)")
	return cmd
}

// readSmallFile reads a regular file of at most max bytes; anything else (a
// FIFO, a device, a directory) is refused rather than waited on.
func readSmallFile(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", path, st.Size(), max)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = fh.Close() }()
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is more than %d bytes", path, max)
	}
	return b, nil
}
