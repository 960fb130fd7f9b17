package verify

import (
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
)

// Lang is the language of a verdict text (msg.Lang).
type Lang = msg.Lang

// Languages of the texts: Spanish is the default.
const (
	Spanish  = msg.Spanish
	English  = msg.English
	Catalan  = msg.Catalan
	Galician = msg.Galician
	Basque   = msg.Basque
)

// ParseLang parses es, en, ca, gl or eu (case-insensitive).
func ParseLang(s string) (Lang, error) { return msg.Parse(s) }

// LangFromLocale chooses the language of POSIX locale values (the first
// non-empty of LC_ALL, LC_MESSAGES and LANG): es, en, ca, gl or eu by its
// language part, else Spanish.
func LangFromLocale(values ...string) Lang { return msg.FromLocale(values...) }

// maxNames bounds the ministries named in a verdict; the rest are counted.
const maxNames = 10

// Text is the verdict for a citizen: one short paragraph, in lang, with
// times in UTC and in loc (nil: UTC only), ending with the trust bundle's
// fingerprint. Every statement in it was proven. After Combine it says
// whether the status was checked live and with how many nodes, and reports
// nodes that disagree, lag or failed. Names and codes that are not
// printable text are shown quoted with their control characters escaped,
// so that none can forge a line of the verdict.
func (r *Result) Text(lang Lang, loc *time.Location) string {
	t := texts{lang: lang}
	var parts []string
	add := func(s string) { parts = append(parts, s) }
	if r.Verdict == NotValid || r.Proven == nil {
		add(t.get("verdict.not_valid"))
		add(t.get("reason." + string(r.Reason)))
	} else {
		p := r.Proven
		if r.Verdict == Revoked {
			add(t.get("verdict.revoked"))
		} else {
			add(t.get("verdict.valid"))
		}
		switch {
		case !r.DocumentChecked && r.ByCode:
			add(t.get("verdict.code_no_document"))
		case !r.DocumentChecked:
			add(t.get("verdict.no_document"))
		}
		if p.Log != nil {
			parts = append(parts, t.logProven(r, loc)...)
			if r.TrustFingerprint != "" {
				add(t.get("verdict.trust", "fingerprint", r.TrustFingerprint))
			}
			return strings.Join(parts, " ")
		}
		signers := make([]string, len(p.Anchor.Signers))
		for i, s := range p.Anchor.Signers {
			signers[i] = safetext.Quote(s.Name)
		}
		add(t.get("verdict.registered", "issuer", safetext.Quote(p.Issuer.Name), "when", t.when(p.RegisteredAt, loc)))
		add(t.get("verdict.confirmed", "signers", t.list(signers), "share", t.percent(p.Anchor.SignedPower, p.Anchor.TotalPower)))
		if rv := p.Status.Revocation; p.Status.Revoked && rv != nil {
			reason := t.revocationReason(rv.Reason)
			if rv.ReasonText != "" {
				reason += " (" + strconv.Quote(rv.ReasonText) + ")"
			}
			add(t.get("verdict.revoked_on", "when", t.when(rv.Time, loc), "by", t.revoker(rv.RevokedBy, p.Issuer), "reason", reason))
			add(t.get("verdict.status_as_of", "when", t.when(p.Status.AsOf, loc)))
		} else {
			add(t.get("verdict.not_revoked", "when", t.when(p.Status.AsOf, loc)))
		}
		if r.Live != nil {
			parts = append(parts, t.live(r.Live)...)
		}
	}
	if r.TrustFingerprint != "" {
		add(t.get("verdict.trust", "fingerprint", r.TrustFingerprint))
	}
	return strings.Join(parts, " ")
}

// logProven is the sentences of a receipt v2 after the verdict: who
// anchored it and when, the checkpoint that proves it, and the status,
// which only nodes asked online can give.
func (t texts) logProven(r *Result, loc *time.Location) []string {
	p := r.Proven
	l := p.Log
	var out []string
	out = append(out, t.get("verdict.registered_log", "agency", safetext.Quote(p.Issuer.ID), "when", t.when(p.RegisteredAt, loc),
		"height", strconv.FormatInt(p.Batch.Height, 10)))
	signers := make([]string, len(l.Signers))
	for i, s := range l.Signers {
		signers[i] = safetext.Quote(s.Name)
	}
	out = append(out, t.get("verdict.log_checkpoint", "size", strconv.FormatUint(l.Size, 10), "signers", t.list(signers),
		"share", t.percent(l.SignedPower, l.TotalPower)))
	if len(l.Witnesses) > 0 {
		ws := make([]string, len(l.Witnesses))
		for i, w := range l.Witnesses {
			ws[i] = safetext.Quote(w)
		}
		out = append(out, t.get("verdict.log_witnesses", "witnesses", t.list(ws)))
	}
	switch {
	case p.Status.Height == 0:
		out = append(out, t.get("verdict.log_no_status"))
	case p.Status.Revoked && p.Status.Revocation != nil:
		rv := p.Status.Revocation
		reason := t.revocationReason(rv.Reason)
		if rv.ReasonText != "" {
			reason += " (" + strconv.Quote(rv.ReasonText) + ")"
		}
		out = append(out, t.get("verdict.revoked_on", "when", t.when(rv.Time, loc), "by", t.revoker(rv.RevokedBy, p.Issuer), "reason", reason))
		out = append(out, t.get("verdict.status_as_of", "when", t.when(p.Status.AsOf, loc)))
	default:
		out = append(out, t.get("verdict.not_revoked", "when", t.when(p.Status.AsOf, loc)))
	}
	if r.Live != nil {
		ls := t.live(r.Live)
		if r.Live.Checked == 0 {
			// The sentence on the status above says it was not checked.
			ls = ls[1:]
		}
		out = append(out, ls...)
	}
	return out
}

// live is the sentences about the nodes asked.
func (t texts) live(l *LiveInfo) []string {
	var out []string
	if l.Checked > 0 {
		out = append(out, t.get("verdict.live_checked", "checked", strconv.Itoa(l.Checked), "tried", strconv.Itoa(l.Tried)))
	} else {
		out = append(out, t.get("verdict.live_unchecked"))
	}
	if l.Disagreement {
		var revoking, other []string
		if l.ReceiptDisagrees {
			// The receipt is one side: the side the nodes are not on.
			side := &other
			for _, n := range l.Nodes {
				if n.Disagrees && n.Check != nil && !n.Check.Revoked {
					side = &revoking
				}
			}
			*side = append(*side, t.get("live.receipt"))
		}
		for _, n := range l.Nodes {
			if !n.Disagrees || n.Check == nil {
				continue
			}
			if n.Check.Revoked {
				revoking = append(revoking, safetext.Quote(n.Endpoint))
			} else {
				other = append(other, safetext.Quote(n.Endpoint))
			}
		}
		out = append(out, t.get("verdict.live_disagree", "revoking", t.list(revoking), "other", t.list(other)))
	}
	for _, n := range l.Nodes {
		if n.Stale && n.Check != nil {
			out = append(out, t.get("verdict.live_stale", "node", safetext.Quote(n.Endpoint),
				"height", strconv.FormatInt(n.Check.Height, 10), "newest", strconv.FormatInt(l.Newest, 10)))
		}
	}
	var failed []string
	for _, n := range l.Nodes {
		if n.Check != nil {
			continue
		}
		e := n.err
		if e == nil {
			e = &LiveError{Code: n.Error}
		}
		failed = append(failed, t.get("live.node", "node", safetext.Quote(n.Endpoint), "error", t.get("live.err."+string(e.Code), liveErrorArgs(e)...)))
	}
	if len(failed) > 0 {
		out = append(out, t.get("verdict.live_failed", "nodes", strings.Join(failed, "; ")))
	}
	return out
}

// texts writes the parts of a verdict in one language.
type texts struct{ lang Lang }

func (t texts) get(key string, pairs ...string) string { return msg.T(t.lang, key, pairs...) }

// when formats t as a date and time in UTC, with the local time in loc.
func (t texts) when(at time.Time, loc *time.Location) string {
	u := at.UTC()
	key := "time.at"
	if u.Hour() == 1 {
		key = "time.at_one"
	}
	s := t.get(key, "date", msg.Date(t.lang, u), "time", u.Format("15:04:05"))
	if loc == nil || loc == time.UTC {
		return s
	}
	l := at.In(loc)
	zone, off := l.Zone()
	if off == 0 && (zone == "UTC" || zone == "") {
		return s
	}
	if l.YearDay() == u.YearDay() && l.Year() == u.Year() {
		return s + " (" + t.get("time.local", "time", l.Format("15:04:05"), "zone", zone) + ")"
	}
	return s + " (" + t.get("time.local_date", "date", msg.Date(t.lang, l), "time", l.Format("15:04:05"), "zone", zone) + ")"
}

// percent formats signed/total rounded down to a tenth, without a trailing
// ".0", so that a share is never overstated.
func (t texts) percent(signed, total int64) string {
	if total <= 0 {
		return t.get("num.percent", "n", "0")
	}
	if signed < 0 || signed > total {
		signed = total
	}
	// signed*1000/total in 128 bits: the quotient is at most 1000.
	hi, lo := bits.Mul64(uint64(signed), 1000)
	q, _ := bits.Div64(hi, lo, uint64(total))
	tenths := int64(q)
	s := strconv.FormatInt(tenths/10, 10)
	if d := tenths % 10; d != 0 {
		s += t.get("num.decimal") + strconv.FormatInt(d, 10)
	}
	return t.get("num.percent", "n", s)
}

// list joins names ("A, B and C"), naming at most maxNames.
func (t texts) list(names []string) string {
	if len(names) > maxNames {
		rest := len(names) - (maxNames - 1)
		names = append(append([]string(nil), names[:maxNames-1]...), t.get("list.others", "count", strconv.Itoa(rest)))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + t.get("list.and") + names[len(names)-1]
}

// revocationReason is a revocation reason code in words, or the code
// quoted if the catalogue has no words for it.
func (t texts) revocationReason(code string) string {
	key := "revocation." + code
	if s := t.get(key); s != key {
		return s
	}
	return safetext.Quote(code)
}

// revoker names who revoked: the issuer by its proven name, the consortium,
// or an agency by its id.
func (t texts) revoker(by string, issuer AgencyInfo) string {
	if id, ok := strings.CutPrefix(by, "agency/"); ok {
		if id == issuer.ID {
			return safetext.Quote(issuer.Name)
		}
		return t.get("who.agency", "id", safetext.Quote(id))
	}
	if id, ok := strings.CutPrefix(by, "governance/"); ok {
		return t.get("who.governance", "id", safetext.Quote(id))
	}
	return safetext.Quote(by)
}
