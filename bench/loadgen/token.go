package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// signToken makes an HS256 JWT {sub, exp in one day}, the claims livegate, the Socket.IO peer and
// Centrifugo all require.
func signToken(secret, sub string) string {
	claims := `{"sub":"` + sub + `","exp":` + strconv.FormatInt(time.Now().Add(24*time.Hour).Unix(), 10) + `}`
	unsigned := jwtHeader + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
