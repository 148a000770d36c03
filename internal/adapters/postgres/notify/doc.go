// Package notify wakes the readers of every replica when events are
// appended: an Announcer sends PostgreSQL notifications after appends
// commit, a Listener receives them and wakes its subscribers (an
// app.Waker). See docs/design.md, "Wake-ups". The Listener's session
// hears further channels for their handlers too: that a customer's
// personal data was erased, so that every replica forgets its keys.
package notify
