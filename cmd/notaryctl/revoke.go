package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// revokedItem is one revoked document.
type revokedItem struct {
	Input      string          `json:"input"`
	Document   documentView    `json:"document"`
	Revocation *revocationView `json:"revocation"`
}

// revokeResult is the revoke command's result.
type revokeResult struct {
	Height    int64         `json:"height"`
	TxHash    string        `json:"tx_hash"`
	Documents []revokedItem `json:"documents"`
}

func (r *revokeResult) Text(w io.Writer) error {
	for _, d := range r.Documents {
		rv := d.Revocation
		fmt.Fprintf(w, "revoked  %s  at height %d, %s: %s", safe(d.Input), rv.Height, stamp(rv.Time), safe(rv.Reason))
		if rv.ReasonText != "" {
			fmt.Fprintf(w, " (%q)", rv.ReasonText)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "%d %s revoked in transaction %s at height %d\n",
		len(r.Documents), plural(len(r.Documents), "document", "documents"), safe(r.TxHash), r.Height)
	return err
}

func newRevokeCmd() *cobra.Command {
	var reasonCode, text string
	var codeArgs []string
	cmd := &cobra.Command{
		Use:   "revoke FILE|DIGEST... | --code CODE... --reason-code REASON [--reason TEXT]",
		Short: "revoke anchored documents",
		Long: `revoke revokes documents this agency anchored, given as files (hashed here)
or as the hex digests of their bytes, or by the verification codes they were
anchored under (--code, repeatable: the document registered under the code
is looked up, and revoked, by the code's key), all in one transaction:
files and digests, or codes, not both in one command. A revocation is
final and shows in every receipt's status from then on.

--reason-code is one of: ` + strings.Join(reasonCodes(), ", ") + `.
--reason is a short free text (no personal data: it is public).

Exit codes: 0 revoked; 1 refused (not anchored, already revoked, anchored by
another agency, no revoke permission); 2 usage error; 4 node unreachable.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			if len(args) == 0 && len(codeArgs) == 0 {
				return nil, cli.Usage("give the documents to revoke: FILE|DIGEST..., or --code CODE")
			}
			if len(args) > 0 && len(codeArgs) > 0 {
				return nil, cli.Usage("revoke documents registered under verification codes (--code) and other documents (FILE|DIGEST) in separate commands: a revocation names digests or code keys, not both")
			}
			alg, err := algorithmOf(cmd)
			if err != nil {
				return nil, err
			}
			parsed := make([]vcode.Code, len(codeArgs))
			for i, c := range codeArgs {
				if parsed[i], err = vcode.ParseLink(c); err != nil {
					return nil, cli.Usage("--code %s: %w", safe(c), err)
				}
			}
			reason, err := parseReason(reasonCode)
			if err != nil {
				return nil, err
			}
			targets := make([]target, len(args))
			for i, a := range args {
				if targets[i], err = parseTarget(a); err != nil {
					return nil, err
				}
				if _, err := targets[i].document(cmd.Context(), alg); err != nil {
					return nil, err
				}
			}
			s, err := connect(cmd, client.WithAlgorithm(alg))
			if err != nil {
				return nil, err
			}
			defer s.close()
			docs := make([]client.Document, len(targets), len(targets)+len(parsed))
			for _, c := range parsed {
				doc, err := codedDocument(s, c)
				if err != nil {
					return nil, err
				}
				targets = append(targets, target{Arg: c.String()})
				docs = append(docs, doc)
			}
			for i, t := range targets[:len(targets)-len(parsed)] {
				doc, _, err := s.c.Locate(s.ctx, t.Digest)
				if err != nil {
					if status.Code(err) == codes.NotFound {
						return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: not anchored, nothing revoked", t.Arg))
					}
					return nil, s.fail(err)
				}
				docs[i] = doc
			}
			resp, err := s.c.RevokeDocuments(s.ctx, docs, reason, text)
			if err != nil {
				return nil, s.fail(fmt.Errorf("revoke: %w", err))
			}
			res := &revokeResult{Height: resp.GetHeight(), TxHash: hex.EncodeToString(resp.GetTxHash())}
			for i, doc := range docs {
				var lr *notaryv1.LookupDigestResponse
				if doc.Coded() {
					lr, err = s.c.LookupCode(s.ctx, doc.CodeKey, 0)
				} else {
					lr, err = s.c.Lookup(s.ctx, doc.Algorithm, doc.Anchored, 0)
				}
				if err != nil {
					return nil, s.fail(fmt.Errorf("revoked at height %d, but the lookup failed: %w", res.Height, err))
				}
				rv := viewRevocation(lr.GetRevocation())
				if rv == nil {
					return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: the revocation committed at height %d is not in the node's state", targets[i].Arg, res.Height))
				}
				res.Documents = append(res.Documents, revokedItem{Input: targets[i].Arg, Document: viewDocument(doc), Revocation: rv})
			}
			return res, nil
		}),
	}
	cmd.Flags().StringArrayVar(&codeArgs, "code", nil, "revoke the document registered under this verification code (repeatable)")
	cmd.Flags().StringVar(&reasonCode, "reason-code", "", "revocation reason: "+strings.Join(reasonCodes(), ", ")+" (required)")
	cmd.Flags().StringVar(&text, "reason", "", "short text explaining the revocation (public)")
	addAlgorithmFlag(cmd)
	return cmd
}

// codedDocument finds the document registered under a verification code
// (by the code's key): its anchored value and algorithm, with the code's
// salt and key (the document digest stays unknown).
func codedDocument(s *session, c vcode.Code) (client.Document, error) {
	sec := c.Derive()
	r, err := s.c.LookupCode(s.ctx, sec.Key[:], 0)
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return client.Document{}, cli.Fail(cli.ExitFailure, fmt.Errorf("code %s: no document is registered under it, nothing revoked", c))
		}
		return client.Document{}, s.fail(err)
	}
	alg := r.GetBatch().GetHashAlgorithm()
	if want := s.c.Options().Algorithm; alg != want {
		return client.Document{}, cli.Usage("code %s: the document is anchored with %s: give --algorithm %s", c, ledger.AlgorithmName(alg), ledger.AlgorithmName(alg))
	}
	if len(r.GetDigest()) != ledger.DigestSize {
		return client.Document{}, cli.Fail(cli.ExitFailure, fmt.Errorf("code %s: the node answered without the anchored digest", c))
	}
	return client.Document{Algorithm: alg, Anchored: r.GetDigest(), Salt: sec.Salt[:], CodeKey: sec.Key[:]}, nil
}

// reasonCodes lists the revocation reason codes.
func reasonCodes() []string {
	_, names, _ := parseEnum("", "REVOCATION_REASON_", notaryv1.RevocationReason_name)
	return names
}

// parseReason parses --reason-code.
func parseReason(code string) (notaryv1.RevocationReason, error) {
	if code == "" {
		return 0, cli.Usage("--reason-code is required: one of %s", strings.Join(reasonCodes(), ", "))
	}
	v, names, ok := parseEnum(code, "REVOCATION_REASON_", notaryv1.RevocationReason_name)
	if !ok {
		return 0, cli.Usage("--reason-code %q: unknown (use one of %s)", code, strings.Join(names, ", "))
	}
	return notaryv1.RevocationReason(v), nil
}
