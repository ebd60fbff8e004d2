package api

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// TestOpenAPIDocumentIsValid loads the document as OpenAPI 3 and validates
// it: references resolve, parameters match their paths, schemas are sound.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info == nil || doc.Info.Title == "" || doc.Paths.Len() == 0 {
		t.Fatalf("not an OpenAPI 3 document: openapi %q, info %v, %d paths", doc.OpenAPI, doc.Info, doc.Paths.Len())
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s %s has no responses", method, path)
			}
		}
	}
}

// TestOpenAPIDocumentsEveryRoute compares the document with the routes of
// the API, with the admin and read APIs on: every route is documented, and
// every documented operation is served.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newTestAPI(t, map[string]string{"ADMIN_TOKEN": "admin", "READ_API_ENABLED": "true"}, &fakeReader{})
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	var served []string
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound { // the admin group's catch-all
			continue
		}
		served = append(served, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method := range item {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in openapi.json", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("openapi.json documents %s, which is not served", op)
		}
	}
	if len(served) < 17 {
		t.Errorf("only %d routes: %v", len(served), served)
	}
}

// TestOpenAPIIsServed: the document is served without a key.
func TestOpenAPIIsServed(t *testing.T) {
	status, header, body := get(newTestAPI(t, map[string]string{}, nil), "/api/openapi.json", "")
	if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), "application/json") || body != string(openAPIDocument) {
		t.Fatalf("GET /api/openapi.json: %d %s %.100s", status, header.Get("Content-Type"), body)
	}
}
