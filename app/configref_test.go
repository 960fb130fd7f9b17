package app

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated section of docs/config.md")

// configDoc is the configuration reference.
var configDoc = filepath.Join("..", "docs", "config.md")

// TestConfigReference checks that docs/config.md holds the reference
// ConfigReference generates from the code, so that it names every app.toml
// setting with its current default. go test ./app -run TestConfigReference
// -update-docs rewrites it.
func TestConfigReference(t *testing.T) {
	want, err := ConfigReference()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	const begin, end = "<!-- BEGIN generated app-toml -->\n", "<!-- END generated app-toml -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no generated section app-toml", configDoc)
	}
	if doc[i+len(begin):j] == want {
		return
	}
	if !*updateDocs {
		t.Fatalf("%s disagrees with the code; run go test ./app -run TestConfigReference -update-docs", configDoc)
	}
	doc = doc[:i+len(begin)] + want + doc[j:]
	if err := os.WriteFile(configDoc, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConfigSettingsCoverAppConfig: every field of AppConfig's tables is
// listed, with a default that loads back as DefaultAppConfig's value.
func TestConfigSettingsCoverAppConfig(t *testing.T) {
	settings, err := ConfigSettings()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]ConfigSetting{}
	for _, s := range settings {
		listed[s.Table+"."+s.Key] = s
	}
	def := reflect.ValueOf(DefaultAppConfig()).Elem()
	fields := 0
	var toml strings.Builder
	for i := range def.NumField() {
		table := tomlName(def.Type().Field(i))
		toml.WriteString("[" + table + "]\n")
		for j := range def.Field(i).NumField() {
			key := tomlName(def.Field(i).Type().Field(j))
			fields++
			s, ok := listed[table+"."+key]
			if !ok {
				t.Errorf("%s.%s (AppConfig.%s.%s) is not in the reference", table, key,
					def.Type().Field(i).Name, def.Field(i).Type().Field(j).Name)
				continue
			}
			toml.WriteString(key + " = " + s.Default + "\n")
		}
	}
	if len(settings) != fields {
		t.Errorf("the reference lists %d settings, AppConfig has %d", len(settings), fields)
	}
	path := filepath.Join(t.TempDir(), "app.toml")
	if err := os.WriteFile(path, []byte(toml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadAppConfig(path)
	if err != nil {
		t.Fatalf("the reference's defaults do not load: %v", err)
	}
	if !reflect.DeepEqual(got, DefaultAppConfig()) {
		t.Errorf("the reference's defaults load as %+v, want %+v", got, DefaultAppConfig())
	}
}

// TestConfigSettingsRefuseUndocumented: a setting without documentation,
// or documentation of no setting, fails the reference.
func TestConfigSettingsRefuseUndocumented(t *testing.T) {
	cases := []struct {
		name string
		edit func(map[string]settingDoc)
		want string
	}{
		{"undocumented", func(d map[string]settingDoc) { delete(d, "state.tx_cache_size") }, "without documentation (app/configref.go, settingDocs): state.tx_cache_size"},
		{"no change", func(d map[string]settingDoc) { d["state.tx_cache_size"] = settingDoc{Meaning: "x"} }, "without documentation (app/configref.go, settingDocs): state.tx_cache_size"},
		{"stale", func(d map[string]settingDoc) { d["state.gone"] = settingDoc{Meaning: "x", Change: "y"} }, "app.toml does not have: state.gone"},
	}
	saved := settingDocs
	t.Cleanup(func() { settingDocs = saved })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settingDocs = make(map[string]settingDoc, len(saved))
			for k, v := range saved {
				settingDocs[k] = v
			}
			tc.edit(settingDocs)
			_, err := ConfigSettings()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
