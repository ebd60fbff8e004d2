package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/labstack/echo/v4"
)

// adminRoutes serves the management of harbors and keys, the same
// operations as harborctl, to callers with the admin token.
func adminRoutes(e *echo.Echo, token string, store *tenant.Store) {
	a := &admin{store: store}
	g := e.Group("/api/v1/admin", adminAuth(token))
	g.GET("/harbors", a.listHarbors)
	g.POST("/harbors", a.createHarbor)
	g.GET("/harbors/:harbor_id", a.getHarbor)
	g.DELETE("/harbors/:harbor_id", a.deleteHarbor)
	g.GET("/harbors/:harbor_id/keys", a.listKeys)
	g.POST("/harbors/:harbor_id/keys", a.createKey)
	g.DELETE("/keys/:key_id", a.revokeKey)
}

// adminAuth wants "Authorization: Bearer <token>", compared in constant time.
func adminAuth(token string) echo.MiddlewareFunc {
	want := sha256.Sum256([]byte(token))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
			h := sha256.Sum256([]byte(got))
			if !ok || subtle.ConstantTimeCompare(h[:], want[:]) != 1 {
				return problem(http.StatusUnauthorized, "the admin API wants the admin token: Authorization: Bearer <ADMIN_TOKEN>")
			}
			return next(c)
		}
	}
}

type admin struct {
	store *tenant.Store
}

// CreatedKey is the answer to a key's creation: the only time the secret
// is shown.
type CreatedKey struct {
	Key    tenant.Key `json:"key"`
	Secret string     `json:"secret"`
}

func (a *admin) listHarbors(c echo.Context) error {
	hs, err := a.store.Harbors(c.Request().Context())
	if err != nil {
		return storeProblem(err)
	}
	return c.JSON(http.StatusOK, orEmpty(hs))
}

func (a *admin) createHarbor(c echo.Context) error {
	var h tenant.Harbor
	if err := c.Bind(&h); err != nil {
		return problem(http.StatusBadRequest, "the body must be a harbor: {\"id\": ..., \"name\": ..., \"limits\": {...}}")
	}
	h, err := a.store.CreateHarbor(c.Request().Context(), h)
	if err != nil {
		return storeProblem(err)
	}
	return c.JSON(http.StatusCreated, h)
}

func (a *admin) getHarbor(c echo.Context) error {
	h, err := a.store.Harbor(c.Request().Context(), c.Param("harbor_id"))
	if err != nil {
		return storeProblem(err)
	}
	return c.JSON(http.StatusOK, h)
}

func (a *admin) deleteHarbor(c echo.Context) error {
	if err := a.store.DeleteHarbor(c.Request().Context(), c.Param("harbor_id")); err != nil {
		return storeProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *admin) listKeys(c echo.Context) error {
	ks, err := a.store.Keys(c.Request().Context(), c.Param("harbor_id"))
	if err != nil {
		return storeProblem(err)
	}
	return c.JSON(http.StatusOK, orEmpty(ks))
}

func (a *admin) createKey(c echo.Context) error {
	var req struct {
		Scopes []string `json:"scopes"`
	}
	if err := c.Bind(&req); err != nil {
		return problem(http.StatusBadRequest, "the body must be {\"scopes\": [\"write\", \"read\"]}")
	}
	if len(req.Scopes) == 0 {
		req.Scopes = []string{tenant.ScopeWrite}
	}
	secret, k, err := a.store.CreateKey(c.Request().Context(), c.Param("harbor_id"), req.Scopes)
	if err != nil {
		return storeProblem(err)
	}
	return c.JSON(http.StatusCreated, CreatedKey{Key: k, Secret: secret})
}

func (a *admin) revokeKey(c echo.Context) error {
	if err := a.store.RevokeKey(c.Request().Context(), c.Param("key_id")); err != nil {
		return storeProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// storeProblem maps the store's errors to answers.
func storeProblem(err error) error {
	switch {
	case errors.Is(err, tenant.ErrHarborNotFound), errors.Is(err, tenant.ErrKeyNotFound):
		return problem(http.StatusNotFound, err.Error())
	case errors.Is(err, tenant.ErrHarborExists), errors.Is(err, tenant.ErrHarborDeleted):
		return problem(http.StatusConflict, err.Error())
	case errors.Is(err, tenant.ErrInvalid):
		return problem(http.StatusBadRequest, err.Error())
	default:
		return problem(http.StatusServiceUnavailable, "the tenant store is unavailable: "+err.Error())
	}
}

// orEmpty makes a nil list encode as [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
