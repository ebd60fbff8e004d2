package deploy

import (
	"regexp"
	"testing"
)

// settingRow matches a row of the README's settings tables:
// | `NAME` | `default` | meaning |
var settingRow = regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]*)` \\|")

// documentedSettings returns the environment variables the README's
// settings tables list.
func documentedSettings(t *testing.T) map[string]bool {
	t.Helper()
	settings := map[string]bool{}
	for _, m := range settingRow.FindAllSubmatch(readRepoFile(t, "README.md"), -1) {
		settings[string(m[1])] = true
	}
	// The tables hold some 40 settings; far fewer means the format changed
	// and this parser no longer sees them.
	if len(settings) < 30 {
		t.Fatalf("found only %d settings rows in README.md; has the table format changed?", len(settings))
	}
	return settings
}

// checkDocumented fails for every name in names the README does not list.
func checkDocumented(t *testing.T, where string, names []string) {
	t.Helper()
	documented := documentedSettings(t)
	for _, name := range names {
		if !documented[name] {
			t.Errorf("%s sets %s, which the README's settings tables do not list (a typo, or a setting the services do not read)", where, name)
		}
	}
}
