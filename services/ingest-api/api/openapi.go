package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes the whole HTTP API in OpenAPI 3. A test keeps it
// and the registered routes the same.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the document, to anyone.
func openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
