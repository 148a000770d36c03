// Package notify wakes the readers of every replica when events are
// appended: an Announcer sends PostgreSQL notifications after appends
// commit, a Listener receives them and wakes its subscribers (an
// app.Waker). See docs/design.md, "Wake-ups".
package notify
