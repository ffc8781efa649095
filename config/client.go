package config

import (
	"log/slog"

	"github.com/treatywatch/treatywatch/fetch"
)

// ClientOptions are the shared HTTP client's settings from the config's
// http and defaults sections. An explicit host_interval of 0 means no
// gap between requests to one host (the client's zero means its default).
func (c *Config) ClientOptions(userAgent string, log *slog.Logger) fetch.ClientOptions {
	gap := c.HTTP.HostInterval.D()
	if gap == 0 {
		gap = -1
	}
	return fetch.ClientOptions{
		UserAgent:    userAgent,
		Timeout:      c.Defaults.Timeout.D(),
		MaxBody:      c.Defaults.MaxBody.Bytes(),
		PerHost:      c.HTTP.PerHost,
		HostInterval: gap,
		MaxRedirects: c.HTTP.MaxRedirects,
		AllowPrivate: c.HTTP.AllowedPrefixes(),
		DNS:          c.HTTP.DNS,
		Logger:       log,
	}
}
