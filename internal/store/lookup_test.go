package store

import "context"

// The lookups tests read through the store's one dedupe query, Known.

// unseen returns the subset of keys the store has not seen for source id.
func unseen(ctx context.Context, s *Store, id string, keys []string) (map[string]bool, error) {
	stored, _, err := s.Known(ctx, id, keys, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, k := range keys {
		if !stored[k] {
			out[k] = true
		}
	}
	return out, nil
}

// knownURLs returns the subset of urls that stored items of source id
// have.
func knownURLs(ctx context.Context, s *Store, id string, urls []string) (map[string]bool, error) {
	_, byURL, err := s.Known(ctx, id, nil, urls)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for u := range byURL {
		out[u] = true
	}
	return out, nil
}

// keysByURL returns the key stored under each of urls that stored items
// of source id have.
func keysByURL(ctx context.Context, s *Store, id string, urls []string) (map[string]string, error) {
	_, byURL, err := s.Known(ctx, id, nil, urls)
	return byURL, err
}
