package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// maxHistoryPage is the gateway's largest page.
const maxHistoryPage = 1000

// fetchHistory reads the citizen's whole access history from a gateway: the
// first page with its checkpoint (at height, 0 for the newest height with a
// signed header), the next pages at the same height, and the agency and
// mandate records the entries name, each with its proof at that height.
// Each page is asked for with a request signed by the citizen's key (the
// gateway returns a history only to its subject). Nothing is verified here:
// verify.AccessHistory does it.
func fetchHistory(ctx context.Context, gw gatewayv1.GatewayClient, id *identity.Identity, height int64, pageSize uint32) (*notaryv1.GetAccessHistoryResponse, []verify.Record, error) {
	subject := id.Subject()
	page := func(req *notaryv1.GetAccessHistoryRequest) (*notaryv1.GetAccessHistoryResponse, error) {
		if err := client.SignRead(id, req); err != nil {
			return nil, err
		}
		return gw.GetAccessHistory(ctx, req)
	}
	first, err := page(&notaryv1.GetAccessHistoryRequest{Subject: subject, PageSize: pageSize, Height: height, WithCheckpoint: true})
	if err != nil {
		return nil, nil, err
	}
	var head notaryv1.AccessHead
	if len(first.Head) > 0 {
		if err := proto.Unmarshal(first.Head, &head); err != nil {
			return nil, nil, fmt.Errorf("the node's history head does not decode: %w", err)
		}
	}
	pages := []*notaryv1.GetAccessHistoryResponse{first}
	got := uint64(len(first.Entries))
	for got < head.Count {
		p, err := page(&notaryv1.GetAccessHistoryRequest{Subject: subject, PageSize: pageSize, Height: first.Height, Start: got})
		if err != nil {
			return nil, nil, err
		}
		if len(p.Entries) == 0 {
			break // the verifier reports what is missing
		}
		pages = append(pages, p)
		got += uint64(len(p.Entries))
	}
	merged, err := verify.MergeAccessPages(pages)
	if err != nil {
		return nil, nil, fmt.Errorf("the node's pages do not fit together: %w", err)
	}
	// The records that name the agencies and the laws, at the same height.
	var keys [][]byte
	seen := map[string]bool{}
	add := func(k []byte) {
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	for _, e := range merged.Entries {
		var x notaryv1.Exchange
		if proto.Unmarshal(e.GetRecord(), &x) != nil {
			continue // the verifier reports it
		}
		if ledger.ValidID(x.RequesterAgencyId) {
			add(ledger.AgencyKey(x.RequesterAgencyId))
		}
		if ledger.ValidID(x.ProviderAgencyId) {
			add(ledger.AgencyKey(x.ProviderAgencyId))
		}
		if id := x.GetMandateId(); ledger.ValidID(id) {
			add(ledger.MandateKey(id))
		}
	}
	var records []verify.Record
	for _, k := range keys {
		r, err := gw.QueryState(ctx, &notaryv1.QueryStateRequest{Key: k, Height: merged.Height})
		if err != nil {
			return nil, nil, err
		}
		if len(r.Value) > 0 {
			records = append(records, verify.Record{Key: k, Value: r.Value, Proof: r.Proof})
		}
	}
	return merged, records, nil
}

// accessesResult is the accesses command's result: the verified history,
// or why it did not verify.
type accessesResult struct {
	h       *verify.ProvenHistory
	failure *verify.Failure
	node    string
	lang    verify.Lang
	loc     *time.Location
}

// ExitCode: 0 verified, 1 not verified.
func (r accessesResult) ExitCode() int {
	if r.failure != nil {
		return cli.ExitFailure
	}
	return cli.ExitOK
}

// MarshalJSON gives the verified history (every entry, the checkpoint, the
// signers) or the reason it did not verify.
func (r accessesResult) MarshalJSON() ([]byte, error) {
	out := struct {
		Verified bool   `json:"verified"`
		Node     string `json:"node"`
		Reason   string `json:"reason,omitempty"`
		Detail   string `json:"detail,omitempty"`
		*verify.ProvenHistory
		ExitCode int `json:"exit_code"`
	}{Verified: r.failure == nil, Node: r.node, ProvenHistory: r.h, ExitCode: r.ExitCode()}
	if r.failure != nil {
		out.Reason, out.Detail = string(r.failure.Reason), r.failure.Detail
	}
	return json.Marshal(out)
}

var historyReasons = map[verify.Reason][2]string{
	verify.ReasonMalformed:              {"the node's answer is malformed", "la respuesta del nodo está mal formada"},
	verify.ReasonWrongChain:             {"the answer is for another chain than the trust bundle's", "la respuesta es de otra cadena que la del paquete de confianza"},
	verify.ReasonProofInvalid:           {"a proof does not verify", "una prueba no se verifica"},
	verify.ReasonSignatureInvalid:       {"a validator signature is invalid", "una firma de validador no es válida"},
	verify.ReasonInsufficientSignatures: {"too few validators signed", "firmaron demasiado pocos validadores"},
	verify.ReasonValidatorSetNotReached: {"the signing validators are not those of the trust bundle", "los validadores firmantes no son los del paquete de confianza"},
	verify.ReasonHistoryIncomplete:      {"the node left out, added or reordered entries of your history", "el nodo omitió, añadió o reordenó entradas de su historial"},
}

func (r accessesResult) Text(w io.Writer) error {
	l := r.lang
	if r.failure != nil {
		why := string(r.failure.Reason)
		if p, ok := historyReasons[r.failure.Reason]; ok {
			why = tr(l, p[0], p[1])
		}
		_, err := fmt.Fprintf(w, "%s %s (%s).\n",
			tr(l, "NOT VERIFIED. The access history from node "+safe(r.node)+" cannot be trusted:", "NO VERIFICADO. El historial de accesos del nodo "+safe(r.node)+" no es fiable:"),
			why, safetext.Escape(r.failure.Detail))
		return err
	}
	h := r.h
	var signers []string
	for _, s := range h.Checkpoint.Signers {
		signers = append(signers, safe(s.Name))
	}
	fmt.Fprintf(w, tr(l,
		"VERIFIED. Access history of your data (subject id %s): %d %s, complete up to %s (state %d).\nConfirmed by %s, holding %d of %d of the voting power, against the trust bundle of chain %s.\n",
		"VERIFICADO. Historial de accesos a sus datos (identificador %s): %d %s, completo hasta %s (estado %d).\nLo confirman %s, con %d de %d del poder de voto, según el paquete de confianza de la cadena %s.\n"),
		safe(h.Subject), h.Count, plural(l, h.Count), when(h.AsOf, r.loc), h.Height,
		strings.Join(signers, ", "), h.Checkpoint.SignedPower, h.Checkpoint.TotalPower, safe(h.ChainID))
	if len(h.Entries) == 0 {
		_, err := fmt.Fprintln(w, tr(l, "\nNo agency has recorded obtaining data about you.", "\nNinguna agencia ha registrado haber obtenido datos sobre usted."))
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tr(l, "#\tWHEN\tAGENCY\tFROM AGENCY\tCATEGORY\tPURPOSE\tUNDER\tPROVIDER'S CONFIRMATION",
		"#\tCUÁNDO\tAGENCIA\tDE LA AGENCIA\tCATEGORÍA\tFINALIDAD\tAMPARO\tCONFIRMACIÓN DEL PROVEEDOR"))
	unconfirmed := false
	for _, e := range h.Entries {
		unconfirmed = unconfirmed || !e.ProviderConfirmed
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Index, when(e.Time, r.loc),
			agencyName(e.Requester, e.RequesterName), agencyName(e.Provider, e.ProviderName),
			category(l, e.Category), purpose(l, e.Purpose), basis(l, e), confirmation(l, e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if unconfirmed {
		_, err := fmt.Fprintln(w, tr(l,
			"\nAn exchange not confirmed by the agency it names as the provider was declared by the requesting agency alone: nothing proves that the providing agency took part.",
			"\nUn intercambio que la agencia citada como proveedora no confirmó lo declaró solo la agencia solicitante: nada prueba que la agencia proveedora participara."))
		return err
	}
	return nil
}

// confirmation says whether the providing agency co-signed an exchange.
func confirmation(l verify.Lang, e verify.AccessInfo) string {
	if e.ProviderConfirmed {
		return tr(l, "confirmed by ", "confirmado por ") + e.Provider
	}
	return tr(l, "declared by "+e.Requester+", not confirmed by "+e.Provider, "declarado por "+e.Requester+", no confirmado por "+e.Provider)
}

func plural(l verify.Lang, n uint64) string {
	if n == 1 {
		return tr(l, "exchange", "intercambio")
	}
	return tr(l, "exchanges", "intercambios")
}

func agencyName(id, name string) string {
	if name == "" {
		return safe(id)
	}
	return safe(name) + " (" + safe(id) + ")"
}

func basis(l verify.Lang, e verify.AccessInfo) string {
	if e.ConsentID != "" {
		return tr(l, "your consent ", "su consentimiento ") + safe(e.ConsentID)
	}
	law := safe(e.MandateID)
	if e.LegalReference != "" {
		law = safe(e.LegalReference) + " [" + safe(e.MandateID) + "]"
	}
	return tr(l, "law: ", "ley: ") + law
}

func newAccessesCmd(env rootEnv) *cobra.Command {
	var nf nodeFlags
	var trustPath, tz string
	var height int64
	var pageSize uint32
	cmd := &cobra.Command{
		Use:   "accesses [--trust TRUST]",
		Short: "who obtained data about you, verified against the trust bundle",
		Long: `accesses fetches your access history from a node (every exchange of data
about you that an agency recorded: when, which agency, from which agency,
what category, for what purpose, under which consent or law, and whether
the providing agency confirmed it or the requesting agency alone declared
it) and verifies it
offline against the consortium's trust bundle: each entry and the history's
head are proven against a header signed by more than two thirds of the
voting power, and the head's count and hash chain show that no entry was
left out or reordered. The node is not trusted.

Exit codes: 0 verified, 1 not verified (or refused by the node), 2 usage
error, 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			loc, err := env.zone(tz)
			if err != nil {
				return nil, err
			}
			if height < 0 {
				return nil, cli.Usage("--height %d: 0 for the newest, or a height >= 1", height)
			}
			if pageSize < 1 || pageSize > maxHistoryPage {
				return nil, cli.Usage("--page-size %d: 1..%d", pageSize, maxHistoryPage)
			}
			trust, err := readTrust(trustPath)
			if err != nil {
				return nil, err
			}
			id, s, ctx, done, err := nf.connect(cmd)
			if err != nil {
				return nil, err
			}
			defer done()
			resp, records, err := fetchHistory(ctx, s.gw, id, height, pageSize)
			if err != nil {
				return nil, nodeError(s.addr, "access history", err)
			}
			h, err := verify.AccessHistory(trust, id.Subject(), resp, records...)
			var f *verify.Failure
			switch {
			case errors.As(err, &f):
				return accessesResult{failure: f, node: s.addr, lang: lang, loc: loc}, nil
			case err != nil:
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("%s: %w", trustPath, err))
			}
			return accessesResult{h: h, node: s.addr, lang: lang, loc: loc}, nil
		}),
	}
	nf.register(cmd, env)
	cmd.Flags().StringVar(&trustPath, "trust", env.defaultTrust(), "the consortium's trust bundle (trust.json)")
	cmd.Flags().StringVar(&tz, "tz", "", "time zone of printed times, e.g. Europe/Madrid (default: the system's)")
	cmd.Flags().Int64Var(&height, "height", 0, "state height to read the history at (0: the newest with a signed header)")
	cmd.Flags().Uint32Var(&pageSize, "page-size", maxHistoryPage, "entries per request")
	return cmd
}
