package rest

import (
	"net/http"

	"github.com/recmesh/recmesh/services/features/featuresapi"
)

// ProfileRequest is the body of PUT /v1/users/{id}.
type ProfileRequest struct {
	Profile map[string]string `json:"profile"`
}

// ForgetReply answers DELETE /v1/users/{id}.
type ForgetReply struct {
	UserID    string                `json:"user_id"`
	Forgotten featuresapi.Forgotten `json:"forgotten"`
}

func (a *API) handleGetUser(_ http.ResponseWriter, r *http.Request) (any, error) {
	return a.g.GetUser(r.Context(), r.PathValue("id"))
}

func (a *API) handlePutUser(w http.ResponseWriter, r *http.Request) (any, error) {
	var req ProfileRequest
	if err := a.decode(w, r, &req, "profile"); err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if err := a.g.PutUser(r.Context(), id, req.Profile); err != nil {
		return nil, err
	}
	return a.g.GetUser(r.Context(), id)
}

func (a *API) handleDeleteUser(_ http.ResponseWriter, r *http.Request) (any, error) {
	id := r.PathValue("id")
	f, err := a.g.ForgetUser(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return ForgetReply{UserID: id, Forgotten: f}, nil
}
