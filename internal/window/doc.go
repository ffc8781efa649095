// Package window is a weekly time window in a time zone: some weekdays,
// some hours ("mon-fri", "07:00-19:00", "Europe/Berlin"). Sources use one
// as the time they may be fetched in (active), sinks as the time their
// records wait (quiet). Hours may cross midnight ("22:00-07:00"); such a
// span belongs to the day it starts on.
package window
