package dashboard

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// User may write corrections (and read when reading needs
// authentication). Hash is what HashPassword returns; the password
// itself is never stored.
type User struct {
	Name string
	Hash string
}

const (
	hashScheme = "pbkdf2-sha256"
	// hashIterations follows current advice for PBKDF2-HMAC-SHA256 within
	// what a dashboard request may cost once; verified credentials are
	// remembered for the process lifetime, so it is paid once per user.
	hashIterations = 210000
)

// HashPassword returns "pbkdf2-sha256$<iterations>$<salt>$<key>" for a
// password or token, for the config's dashboard users.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", errors.New("dashboard: a password needs at least 8 characters")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("dashboard: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, hashIterations, 32)
	if err != nil {
		return "", fmt.Errorf("dashboard: hash: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, hashIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

type parsedHash struct {
	iter      int
	salt, key []byte
}

func parseHash(h string) (parsedHash, error) {
	parts := strings.Split(h, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return parsedHash{}, fmt.Errorf("want %s$<iterations>$<salt>$<key> as printed by `treatywatch serve --hash-password`", hashScheme)
	}
	var p parsedHash
	var err error
	if p.iter, err = strconv.Atoi(parts[1]); err != nil || p.iter < 10000 {
		return p, fmt.Errorf("iterations %q: want a number of at least 10000", parts[1])
	}
	enc := base64.RawStdEncoding
	if p.salt, err = enc.DecodeString(parts[2]); err != nil || len(p.salt) < 8 {
		return p, errors.New("salt: want at least 8 bytes, base64 without padding")
	}
	if p.key, err = enc.DecodeString(parts[3]); err != nil || len(p.key) < 16 {
		return p, errors.New("key: want at least 16 bytes, base64 without padding")
	}
	return p, nil
}

func (p parsedHash) matches(password string) bool {
	key, err := pbkdf2.Key(sha256.New, password, p.salt, p.iter, len(p.key))
	return err == nil && subtle.ConstantTimeCompare(key, p.key) == 1
}

// auth checks credentials: HTTP basic auth (user and password), or a
// bearer token (checked against every user's hash).
type auth struct {
	users map[string]parsedHash
	order []string
	mu    sync.Mutex
	ok    map[[32]byte]string // sha256 of verified credentials -> user
}

func newAuth(users []User) (*auth, error) {
	a := &auth{users: map[string]parsedHash{}, ok: map[[32]byte]string{}}
	for _, u := range users {
		if u.Name == "" {
			return nil, errors.New("dashboard: a user without a name")
		}
		if _, dup := a.users[u.Name]; dup {
			return nil, fmt.Errorf("dashboard: user %q twice", u.Name)
		}
		p, err := parseHash(u.Hash)
		if err != nil {
			return nil, fmt.Errorf("dashboard: user %q: password_hash: %w", u.Name, err)
		}
		a.users[u.Name] = p
		a.order = append(a.order, u.Name)
	}
	return a, nil
}

// user returns who the request authenticates as, or "".
func (a *auth) user(r *http.Request) string {
	name, pass, basic := r.BasicAuth()
	token := ""
	if !basic {
		h := r.Header.Get("Authorization")
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			token = strings.TrimSpace(t)
		}
		if token == "" {
			return ""
		}
	}
	sum := sha256.Sum256([]byte(name + "\x00" + pass + "\x00" + token))
	a.mu.Lock()
	who, cached := a.ok[sum]
	a.mu.Unlock()
	if cached {
		return who
	}
	switch {
	case basic:
		if p, ok := a.users[name]; ok && p.matches(pass) {
			who = name
		}
	default:
		for _, n := range a.order {
			if a.users[n].matches(token) {
				who = n
				break
			}
		}
	}
	if who != "" {
		a.mu.Lock()
		a.ok[sum] = who
		a.mu.Unlock()
	}
	return who
}
