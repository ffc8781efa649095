// Package trend finds volume spikes in the stored history: a topic or an
// actor whose count in a window is far above its trailing daily mean.
// The store supplies daily counts (store.DailyCounts); the digest shows
// the spikes, and anything else that reads the store (a dashboard) can
// call Spikes on the same counts.
package trend
