package local

import (
	"os"
	"strings"
	"testing"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/pkg/app"
)

// TestREADMEListsEverySetting keeps the README's settings tables true: every
// environment variable any service reads is listed with its real default.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	logParams, err := env.GetFieldParams(&app.LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	params = append(params, logParams...)
	if len(params) < 30 {
		t.Fatalf("found only %d settings", len(params))
	}
	for _, p := range params {
		row := "| `" + p.Key + "` | "
		if p.DefaultValue != "" {
			row += "`" + p.DefaultValue + "` |"
		} else {
			row += "|"
		}
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
}
