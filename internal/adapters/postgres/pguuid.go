package postgres

import "github.com/google/uuid"

// UUID passes a uuid.UUID to pgx as the 16 bytes it is, and ScanUUID
// lets pgx fill one the same way. uuid.UUID is a driver.Valuer and an
// sql.Scanner, and pgx prefers those: it would format every id as text
// for the server to parse, and parse every id it reads from text. On the
// hot paths (get order, load, append) that was a twentieth of the CPU.
func UUID(id uuid.UUID) [16]byte { return id }

func UUIDs(ids []uuid.UUID) [][16]byte {
	out := make([][16]byte, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func ScanUUID(id *uuid.UUID) *[16]byte { return (*[16]byte)(id) }
