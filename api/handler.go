package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/page"
)

// The steps every resource's handlers share, written once. Service methods take the request's
// context and the caller's workspace first; these helpers read the rest from the request (the
// {id}, limit and cursor) and answer, so a handler names its service method and its converter
// and spells out only what is its own.

// lister lists one page of a workspace's Ts.
type lister[T any] func(ctx context.Context, ws uuid.UUID, p page.Request) ([]T, string, error)

// byIDLister lists one page of the Ts that belong to the resource id (a channel's templates, a
// conversation's messages).
type byIDLister[T any] func(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]T, string, error)

// each converts a page's items for the answer; an empty page is [] in JSON, never null.
func each[T, R any](xs []T, conv func(T) R) []R {
	out := make([]R, len(xs))
	for i, x := range xs {
		out[i] = conv(x)
	}
	return out
}

// listPage reads limit and cursor and lists one page of the workspace's items, converted by conv,
// with the cursor of the next page (null on the last).
func listPage[T, R any](c echo.Context, list lister[T], conv func(T) R) ([]R, *string, error) {
	p, err := pageParams(c)
	if err != nil {
		return nil, nil, err
	}
	xs, next, err := list(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return nil, nil, err
	}
	return each(xs, conv), nextCursor(next), nil
}

// listPageByID is listPage for what belongs to the resource at {id}: a malformed id is notFound,
// and is read before limit and cursor.
func listPageByID[T, R any](c echo.Context, notFound error, list byIDLister[T], conv func(T) R) ([]R, *string, error) {
	id, err := pathID(c, notFound)
	if err != nil {
		return nil, nil, err
	}
	return listPage(c, func(ctx context.Context, ws uuid.UUID, p page.Request) ([]T, string, error) {
		return list(ctx, ws, id, p)
	}, conv)
}

// getByID answers 200 with the resource at {id}, converted by conv.
func getByID[T, R any](c echo.Context, notFound error, get func(ctx context.Context, ws, id uuid.UUID) (T, error), conv func(T) R) error {
	id, err := pathID(c, notFound)
	if err != nil {
		return err
	}
	v, err := get(c.Request().Context(), principal(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv(v))
}

// deleteByID deletes the resource at {id} and answers 204.
func deleteByID(c echo.Context, notFound error, del func(ctx context.Context, ws, id uuid.UUID) error) error {
	id, err := pathID(c, notFound)
	if err != nil {
		return err
	}
	if err := del(c.Request().Context(), principal(c).WorkspaceID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// bindByID reads the {id} a body is for, then binds the body into dst; a malformed id is
// notFound and is reported before anything about the body.
func bindByID(c echo.Context, notFound error, dst any) (uuid.UUID, error) {
	id, err := pathID(c, notFound)
	if err != nil {
		return uuid.Nil, err
	}
	return id, bind(c, dst)
}

// fieldsBody is a create-or-patch request body that gives the service's fields.
type fieldsBody[F any] interface{ fields() F }

// updateByID binds a Req patch to the resource at {id}, updates it with the body's fields and
// answers 200 with the result, converted by conv.
func updateByID[Req fieldsBody[F], F, T, R any](c echo.Context, notFound error, update func(ctx context.Context, ws, id uuid.UUID, f F) (T, error), conv func(T) R) error {
	var req Req
	id, err := bindByID(c, notFound, &req)
	if err != nil {
		return err
	}
	v, err := update(c.Request().Context(), principal(c).WorkspaceID, id, req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conv(v))
}

// created answers 201 with the new resource and its address in Location, for the resources
// that have a GET of their own.
func created(c echo.Context, location string, v any) error {
	c.Response().Header().Set(echo.HeaderLocation, location)
	return c.JSON(http.StatusCreated, v)
}
