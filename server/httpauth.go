package server

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequirePassword wraps h so that, when password is not empty, every
// request must carry it: as a bearer token ("Authorization: Bearer
// <password>") or as the password of HTTP basic auth (any user name, so
// curl -u default:<password> works). Others get 401.
func RequirePassword(password string, h http.Handler) http.Handler {
	if password == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpAuthorized(r, password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="gridnode", charset="UTF-8"`)
			http.Error(w, "the password is required (bearer token or basic auth)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// httpAuthorized reports whether r carries password as a bearer token or
// as the password of basic auth.
func httpAuthorized(r *http.Request, password string) bool {
	var given string
	if _, p, ok := r.BasicAuth(); ok {
		given = p
	} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = tok
	} else {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(password)) == 1
}
