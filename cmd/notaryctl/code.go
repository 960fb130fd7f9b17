package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/client/qrcode"
	"github.com/gobtechlab/notary/app/layout"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// maxNewCodes bounds `code new --count`.
const maxNewCodes = 100000

// qrPixels is the side of a PNG QR code image.
const qrPixels = 512

// newCode is one new verification code.
type newCode struct {
	Code string `json:"code"`
	Link string `json:"link"`
	QR   string `json:"qr,omitempty"`
}

// codeNewResult is the result of `code new`.
type codeNewResult struct {
	Codes []newCode `json:"codes"`
	// VerifierURL is the base of the links, and Source where it came from.
	VerifierURL string `json:"verifier_url"`
	Source      string `json:"verifier_url_source"`
}

func (r *codeNewResult) Text(w io.Writer) error {
	for _, c := range r.Codes {
		fmt.Fprintf(w, "%s  %s\n", c.Code, safe(c.Link))
		if c.QR != "" {
			fmt.Fprintf(w, "  qr %s\n", safe(c.QR))
		}
	}
	return nil
}

func newCodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "code",
		Short: "verification codes to print on documents",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCodeNewCmd())
	return cmd
}

func newCodeNewCmd() *cobra.Command {
	var (
		count                    int
		qr, verifierURL, trustIn string
	)
	cmd := &cobra.Command{
		Use:   "new [--count N] [--qr FILE.png|FILE.svg] [--verifier-url URL]",
		Short: "draw new verification codes and their verifier links",
		Long: `code new draws verification codes (20 characters of an alphabet without 0, O,
1, I and L, the last a check character), to print on documents before they
are anchored with ` + "`notaryctl anchor --code CODE FILE`" + ` (or --codes MANIFEST).
Nothing is sent: the codes are drawn here, from the system's random source,
and mean nothing until a document is anchored under them. Keep each code
with its document only: whoever has the code can look the registration up.

Each code is printed with its verifier link, <verifier>#code=<code> (a QR
code's content; a browser never sends the part after # to a server). The
verifier's address is --verifier-url; else the trust bundle's verifier_url;
else the trust bundle's first public endpoint (whose node serves the web
verifier). The trust bundle is --trust, else trust.json in the home the
identity belongs to (<home>/identities/<id>: a dev or testnet home).

--qr FILE writes the QR code image of the link, PNG or SVG by the file's
extension (.png, .svg). With --count above 1, the images are FILE-1.png,
FILE-2.png, ... in the order of the codes.

Exit codes: 0 done; 2 usage error (no verifier address, a bad flag, an image
that cannot be written).`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			if count < 1 || count > maxNewCodes {
				return nil, cli.Usage("--count %d: want 1 to %d", count, maxNewCodes)
			}
			ext := strings.ToLower(filepath.Ext(qr))
			if qr != "" && ext != ".png" && ext != ".svg" {
				return nil, cli.Usage("--qr %s: the image is PNG or SVG, by the extension .png or .svg", qr)
			}
			base, source, err := verifierBase(cmd, verifierURL, trustIn)
			if err != nil {
				return nil, err
			}
			res := &codeNewResult{VerifierURL: base, Source: source}
			for i := range count {
				c, err := vcode.New(rand.Reader)
				if err != nil {
					return nil, cli.Fail(cli.ExitFailure, err)
				}
				nc := newCode{Code: c.String(), Link: c.Link(base)}
				if qr != "" {
					nc.QR = qr
					if count > 1 {
						nc.QR = strings.TrimSuffix(qr, filepath.Ext(qr)) + "-" + strconv.Itoa(i+1) + filepath.Ext(qr)
					}
					if err := writeQR(nc.QR, nc.Link, ext); err != nil {
						return nil, err
					}
				}
				res.Codes = append(res.Codes, nc)
			}
			return res, nil
		}),
	}
	f := cmd.Flags()
	f.IntVar(&count, "count", 1, "how many codes to draw")
	f.StringVar(&qr, "qr", "", "write the QR code image of the link to this file (.png or .svg)")
	f.StringVar(&verifierURL, "verifier-url", "", "address of the web verifier the links open (default: the trust bundle's)")
	f.StringVar(&trustIn, "trust", "", "the consortium's trust bundle (default: trust.json of the identity's home)")
	return cmd
}

// verifierBase is the base of the verifier links, and where it came from:
// flag, the trust bundle's verifier_url, or its first public endpoint.
func verifierBase(cmd *cobra.Command, flag, trustPath string) (string, string, error) {
	if flag != "" {
		u, err := url.Parse(flag)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.RawQuery != "" {
			return "", "", cli.Usage("--verifier-url %q: want an http:// or https:// address without a query or fragment", flag)
		}
		return flag, "flag", nil
	}
	tb, path, err := findTrust(cmd, trustPath)
	if err != nil {
		return "", "", err
	}
	if tb == nil {
		return "", "", cli.Usage("no verifier address: give --verifier-url URL (or --trust, a trust bundle with a verifier_url or public endpoints)")
	}
	if tb.VerifierUrl != "" {
		return tb.VerifierUrl, "trust bundle verifier_url (" + path + ")", nil
	}
	if len(tb.PublicEndpoints) > 0 {
		return tb.PublicEndpoints[0], "trust bundle public endpoint (" + path + ")", nil
	}
	return "", "", cli.Usage("the trust bundle %s has neither a verifier_url nor public endpoints: give --verifier-url URL", path)
}

// findTrust reads the trust bundle of --trust, else trust.json of the
// home the identity lives in (<home>/identities/<id>); nil when there is
// none.
func findTrust(cmd *cobra.Command, path string) (*notaryv1.TrustBundle, string, error) {
	if path == "" {
		dir, _ := cmd.Flags().GetString(flagIdentity)
		if dir == "" {
			dir = defaultIdentityDir()
		}
		abs, err := filepath.Abs(dir)
		if err != nil || filepath.Base(filepath.Dir(abs)) != layout.IdentitiesDir {
			return nil, "", nil
		}
		path = filepath.Join(filepath.Dir(filepath.Dir(abs)), layout.TrustFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", cli.Usage("trust bundle: %w", err)
	}
	tb, err := verify.DecodeTrustBundle(b)
	if err != nil {
		return nil, "", cli.Usage("trust bundle %s: %w", path, err)
	}
	return tb, path, nil
}

// writeQR writes the QR code image of link to path, PNG or SVG by ext.
func writeQR(path, link, ext string) error {
	var b []byte
	var err error
	if ext == ".svg" {
		b, err = qrcode.SVG(link)
	} else {
		b, err = qrcode.PNG(link, qrPixels)
	}
	if err != nil {
		return cli.Fail(cli.ExitFailure, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return cli.Usage("--qr: %w", err)
	}
	return nil
}
