package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	echoSwagger "github.com/swaggo/echo-swagger"

	"github.com/switchboard/switchboard/openapi"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/resource"
)

// health godoc
// @Summary     Liveness
// @ID          getLiveness
// @Description The process is up.
// @Tags        operations
// @Produce     json
// @Success     200 {object} resource.Status
// @Router      /healthz [get]
func health(c echo.Context) error {
	return c.JSON(http.StatusOK, resource.Status{Status: "ok"})
}

// ready godoc
// @Summary     Readiness
// @ID          getReadiness
// @Description The database answers.
// @Tags        operations
// @Produce     json
// @Success     200 {object} resource.Status
// @Failure     503 {object} Problem
// @Router      /readyz [get]
func ready(ping func(context.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			return errkind.New(errkind.KindUnavailable, "database_unavailable", "The database does not answer.")
		}
		return c.JSON(http.StatusOK, resource.Status{Status: "ok"})
	}
}

// spec godoc
// @Summary     The OpenAPI document
// @ID          getOpenAPIDocument
// @Description This API's OpenAPI 3 description (the committed openapi/openapi.json).
// @Tags        operations
// @Produce     json
// @Success     200 {object} object
// @Router      /openapi.json [get]
func spec(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openapi.JSON)
}

// registerDocs serves the API reference: Swagger UI, with assets embedded in the binary, on
// the committed document that /openapi.json serves. echo-swagger's URL option appends to its
// defaults, doc.json and doc.yaml, and the UI opens on the first of them, which reads swag's
// registry: we never register one (the spec is the committed file), so the page showed
// "Failed to load API definition". The option below replaces the list instead, and the two
// registry routes answer 404 like any unknown path.
func registerDocs(e *echo.Echo) {
	onlySpec := func(c *echoSwagger.Config) { c.URLs = []string{"/openapi.json"} }
	ui := echoSwagger.EchoWrapHandler(onlySpec, echoSwagger.DocExpansion("list"))
	e.GET("/docs", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/docs/index.html") })
	e.GET("/docs/*", func(c echo.Context) error {
		switch c.Param("*") {
		case "doc.json", "doc.yaml":
			return echo.ErrNotFound
		}
		return ui(c)
	})
}
