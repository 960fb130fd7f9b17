package witness

import (
	"encoding/json"
	"fmt"
	"os"
)

// Config is the witness's configuration file (JSON): the logs it
// witnesses.
//
//	{"logs": [{"origin": "notary.example/log",
//	           "keys": ["validator-1+1a2b3c4d+AV...", "..."],
//	           "threshold": 3}]}
type Config struct {
	Logs []Log `json:"logs"`
}

// LoadConfig reads and checks a configuration file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read witness config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("decode witness config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("witness config %s: %w", path, err)
	}
	return c, nil
}

// Validate checks every log's policy, as New does.
func (c Config) Validate() error {
	if len(c.Logs) == 0 {
		return fmt.Errorf("no logs")
	}
	seen := map[string]bool{}
	for _, l := range c.Logs {
		if _, err := l.parse(); err != nil {
			return err
		}
		if seen[l.Origin] {
			return fmt.Errorf("log %q configured twice", l.Origin)
		}
		seen[l.Origin] = true
	}
	return nil
}
