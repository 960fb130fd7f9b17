package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// keygenResult is what `verifier citizen keygen` made.
type keygenResult struct {
	Dir       string `json:"identity_dir"`
	Subject   string `json:"subject_id"`
	PublicKey string `json:"public_key"`
	ChainID   string `json:"chain_id"`
	Node      string `json:"node,omitempty"`
	CA        bool   `json:"ca_copied"`
	lang      verify.Lang
}

func (r keygenResult) Text(w io.Writer) error {
	l := r.lang
	_, err := fmt.Fprintf(w, "%s\n  %-18s %s\n  %-18s %s\n  %-18s %s\n  %-18s %s\n%s\n",
		tr(l, "New citizen identity.", "Nueva identidad de ciudadano."),
		tr(l, "directory", "directorio"), safe(r.Dir),
		tr(l, "subject id", "identificador"), r.Subject,
		tr(l, "public key", "clave pública"), r.PublicKey,
		tr(l, "chain", "cadena"), safe(r.ChainID),
		tr(l, "Your subject id is a hash of your public key: it says nothing about who you are.\nKeep the directory private: its key grants and withdraws your consents.\nAn identity agency enrols your public key before your first consent.",
			"Su identificador es un resumen de su clave pública: no dice nada de quién es usted.\nGuarde el directorio en privado: su clave otorga y retira sus consentimientos.\nUna agencia de identidad da de alta su clave pública antes de su primer consentimiento."))
	return err
}

func newCitizenCmd(env rootEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "citizen",
		Short: "a citizen's identity",
	}
	cmd.AddCommand(newKeygenCmd(env))
	return cmd
}

func newKeygenCmd(env rootEnv) *cobra.Command {
	var out, chainID, node, ca string
	cmd := &cobra.Command{
		Use:   "keygen [--out DIR]",
		Short: "create a citizen identity (an ed25519 key)",
		Long: `keygen creates a citizen identity: a new ed25519 key in DIR/identity.json
(readable only by you). Your subject id on the chain is SHA-256 of a fixed
prefix and your public key: a pseudonym, not derived from any name or
national id. Before the key can grant consents, an identity agency of the
consortium enrols it (give it your public key; nothing about you goes on
chain); on a chain whose enrolment is open, your first consent enrols it.

With --ca the consortium CA certificate is copied into DIR (ca.crt), so that
the other commands authenticate the node without --ca.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			if out == "" {
				return nil, cli.Usage("--out is required: the directory of the new identity")
			}
			if chainID == "" {
				return nil, cli.Usage("--chain-id is required")
			}
			if _, err := os.Stat(filepath.Join(out, identity.File)); err == nil {
				return nil, cli.Usage("%s already holds an identity; choose another --out", out)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			var caPEM []byte
			if ca != "" {
				if caPEM, err = inputfile.ReadFile(ca); err != nil {
					return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("--ca: %w", err))
				}
			}
			id, err := identity.Generate(identity.RoleCitizen, "", chainID)
			if err != nil {
				return nil, fmt.Errorf("generate key: %w", err)
			}
			id.Node = node
			if err := id.Save(out); err != nil {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("save identity: %w", err))
			}
			if caPEM != nil {
				if err := os.WriteFile(filepath.Join(out, identity.CAPEM), caPEM, 0o644); err != nil {
					return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("copy CA: %w", err))
				}
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				abs = out
			}
			return keygenResult{Dir: abs, Subject: hex.EncodeToString(id.Subject()), PublicKey: id.PublicKey,
				ChainID: chainID, Node: node, CA: caPEM != nil, lang: lang}, nil
		}),
	}
	cmd.Flags().StringVar(&out, "out", filepath.Join(env.homeDir(), ".notary", "citizen"), "directory of the new identity")
	cmd.Flags().StringVar(&chainID, "chain-id", "notary-dev", "chain the identity signs for")
	cmd.Flags().StringVar(&node, "node", "", "default gateway address for this identity (host:port)")
	cmd.Flags().StringVar(&ca, "ca", "", "consortium CA certificate (PEM) to copy into the identity directory")
	return cmd
}
