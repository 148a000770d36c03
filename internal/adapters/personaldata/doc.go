// Package personaldata keeps each customer's personal data sealed with a
// data key of the customer's own, so that destroying the key forgets the
// customer in a store whose events are never changed (crypto-shredding).
//
// A data key is 32 random bytes for AES-256-GCM. It is stored only wrapped
// by a master key (a file here; a cloud KMS can stand in behind MasterKey),
// and kept unwrapped in a Keyring, a per-process cache, while in use; the
// Keyring asks the store again whether a key it holds still lives once it
// has trusted it for a while (DefaultKeyTrust), so that a key destroyed
// unheard is out of use within that. A
// sealed value is the AEAD of one field's JSON value under a fresh nonce,
// with the field's place (which table or event, which row, which field) as
// associated data: moved to another field or event it no longer opens.
// Where the key was destroyed, the field reads as erased.
//
// The requests that claim idempotency keys, whose bodies may hold personal
// data, are fingerprinted with a MAC under a key derived from the master
// key (RequestFingerprints), so that a stored fingerprint confirms no
// guess of them without it.
package personaldata
