package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

func (h usersAPI) routes() []Route {
	root := []string{store.GroupRoot}
	return []Route{
		Route{"GET", "/users", paged(h.list), Op{Summary: "List local users (root)", Response: List[store.User]{}, Paged: true, Groups: root}},
		Route{"POST", "/users", withBody(h.create), Op{Summary: "Create a local user (root)", Request: auth.NewUser{}, Response: store.User{}, Status: 201, Groups: root}},
		Route{"GET", "/users/:id", answer(h.get), Op{Summary: "Get a local user (root)", Response: store.User{}, Groups: root}},
		Route{"PATCH", "/users/:id", withBody(h.update), Op{Summary: "Change a local user's password, name or groups (root)", Request: auth.UserPatch{}, Response: store.User{}, Groups: root}},
		Route{"POST", "/users/:id/revoke-sessions", h.revokeSessions, Op{Summary: "Sign a user out everywhere (root, or the user themself): every access and refresh token stops working at once; API keys stay", Status: 204}},
		Route{"DELETE", "/users/:id", h.delete, Op{Summary: "Delete a local user (root)", Status: 204, Groups: root}},
	}
}

type usersAPI struct{ svc *auth.Service }

func (h usersAPI) list(c *fiber.Ctx, p store.Page) ([]store.User, string, error) {
	return h.svc.ListUsers(c.UserContext(), p)
}

func (h usersAPI) create(c *fiber.Ctx, in auth.NewUser) (*store.User, error) {
	return h.svc.CreateUser(c.UserContext(), in)
}

func (h usersAPI) get(c *fiber.Ctx) (*store.User, error) {
	return h.svc.GetUser(c.UserContext(), c.Params("id"))
}

func (h usersAPI) update(c *fiber.Ctx, in auth.UserPatch) (*store.User, error) {
	return h.svc.UpdateUser(c.UserContext(), c.Params("id"), in)
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
