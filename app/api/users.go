package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

func (r *Router) userRoutes() {
	h := usersAPI{svc: r.deps.Auth}
	const tag = "users"
	root := []string{store.GroupRoot}
	r.Add(
		Route{"GET", "/users", h.list, Op{Tag: tag, Summary: "List local users (root)", Response: List[store.User]{}, Paged: true, Groups: root}},
		Route{"POST", "/users", h.create, Op{Tag: tag, Summary: "Create a local user (root)", Request: auth.NewUser{}, Response: store.User{}, Status: 201, Groups: root}},
		Route{"GET", "/users/:id", h.get, Op{Tag: tag, Summary: "Get a local user (root)", Response: store.User{}, Groups: root}},
		Route{"PATCH", "/users/:id", h.update, Op{Tag: tag, Summary: "Change a local user's password, name or groups (root)", Request: auth.UserPatch{}, Response: store.User{}, Groups: root}},
		Route{"POST", "/users/:id/revoke-sessions", h.revokeSessions, Op{Tag: tag, Summary: "Sign a user out everywhere (root, or the user themself): every access and refresh token stops working at once; API keys stay", Status: 204}},
		Route{"DELETE", "/users/:id", h.delete, Op{Tag: tag, Summary: "Delete a local user (root)", Status: 204, Groups: root}},
	)
}

type usersAPI struct{ svc *auth.Service }

func (h usersAPI) list(c *fiber.Ctx) error {
	p, err := PageParams(c)
	if err != nil {
		return err
	}
	us, next, err := h.svc.ListUsers(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(NewList(us, next))
}

func (h usersAPI) create(c *fiber.Ctx) error {
	var in auth.NewUser
	if err := Decode(c, &in); err != nil {
		return err
	}
	u, err := h.svc.CreateUser(c.UserContext(), in)
	if err != nil {
		return err
	}
	return JSON(c, fiber.StatusCreated, u)
}

func (h usersAPI) get(c *fiber.Ctx) error {
	u, err := h.svc.GetUser(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (h usersAPI) update(c *fiber.Ctx) error {
	var in auth.UserPatch
	if err := Decode(c, &in); err != nil {
		return err
	}
	u, err := h.svc.UpdateUser(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// revokeSessions: root may end anyone's sessions, a user their own. Anyone
// else is told the user does not exist, as for every object that is not theirs.
func (h usersAPI) revokeSessions(c *fiber.Ctx) error {
	me, id := Principal(c).User, c.Params("id")
	if me.ID != id && !me.HasGroup(store.GroupRoot) {
		return apperr.NotFoundf("User %s not found", id)
	}
	if err := h.svc.RevokeSessions(c.UserContext(), id, false); err != nil {
		return err
	}
	if me.ID == id {
		clearRefreshCookie(c)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h usersAPI) delete(c *fiber.Ctx) error {
	if err := h.svc.DeleteUser(c.UserContext(), Principal(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
