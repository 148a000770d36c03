package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// errNoMasterKey is the refusal of a command that needs the master key
// where none is set, outside development mode.
var errNoMasterKey = errors.New("ORDERAPI_MASTER_KEY_FILE is not set: orderapi keeps each customer's personal data " +
	"sealed with a data key of its own, which a master key wraps, and reads or writes none without it. " +
	"Make one (openssl rand -hex 32 > master-key.hex; chmod 600 master-key.hex), keep it apart from the database " +
	"and its backups, and set ORDERAPI_MASTER_KEY_FILE to its path; for local development, ORDERAPI_AUTH=dev " +
	"makes one in ORDERAPI_AUTH_DEV_DIR")

// loadMasterKeys reads the master keys the configuration names: the
// current one from ORDERAPI_MASTER_KEY_FILE or, in development mode
// without it, the development folder's (made there the first time), and
// the previous ones.
func loadMasterKeys(cfg config, log zerolog.Logger) (*personaldata.MasterKeys, error) {
	var current personaldata.MasterKey
	switch mk := cfg.MasterKey; {
	case mk.File != "":
		k, err := personaldata.LoadMasterKeyFile(mk.File)
		if err != nil {
			return nil, fmt.Errorf("ORDERAPI_MASTER_KEY_FILE: %w", err)
		}
		current = k
	case cfg.Auth.Mode == authDev:
		k, created, err := personaldata.OpenDevMasterKey(cfg.Auth.DevDir)
		if err != nil {
			return nil, fmt.Errorf("development master key in ORDERAPI_AUTH_DEV_DIR: %w", err)
		}
		if created {
			log.Warn().Str("dir", cfg.Auth.DevDir).Str("master_key", k.ID()).
				Msg("made a development master key: personal data sealed under it is lost with it; never use development mode in production")
		}
		current = k
	default:
		return nil, errNoMasterKey
	}
	previous := make([]personaldata.MasterKey, 0, len(cfg.MasterKey.PreviousFiles))
	for _, f := range cfg.MasterKey.PreviousFiles {
		k, err := personaldata.LoadMasterKeyFile(f)
		if err != nil {
			return nil, fmt.Errorf("ORDERAPI_MASTER_KEY_PREVIOUS_FILES: %w", err)
		}
		previous = append(previous, k)
	}
	return personaldata.NewMasterKeys(current, previous...), nil
}

// Values of ORDERAPI_PERSONAL_DATA_SEALING.
const (
	sealingOn  = "on"
	sealingOff = "off"
)

// errSealingOffOutsideDev refuses ORDERAPI_PERSONAL_DATA_SEALING=off
// outside development mode.
var errSealingOffOutsideDev = errors.New("ORDERAPI_PERSONAL_DATA_SEALING=off stores customers' personal data in clear, " +
	"and is accepted only in development mode (ORDERAPI_AUTH=dev), to measure what sealing costs: unset it")

// serveMasterKeys are serve's master keys: loaded as every keyed
// command's are, or none with ORDERAPI_PERSONAL_DATA_SEALING=off, when
// the store writes personal data in clear. Sealing can be turned off only
// in development mode, and it says so loudly: it is there to measure what
// sealing costs (make bench), never to run without it.
func serveMasterKeys(cfg config, log zerolog.Logger) (*personaldata.MasterKeys, error) {
	if cfg.PersonalDataSealing != sealingOff {
		return loadMasterKeys(cfg, log)
	}
	if cfg.Auth.Mode != authDev {
		return nil, errSealingOffOutsideDev
	}
	log.Warn().Msg("ORDERAPI_PERSONAL_DATA_SEALING=off: personal data is stored in clear and cannot be erased; " +
		"this is for measuring what sealing costs, never for production")
	return nil, nil
}

// checkSealingOff refuses a database that holds data keys to a service
// that does not seal: it could read none of what they sealed.
func checkSealingOff(ctx context.Context, pool *pgxpool.Pool) error {
	n, err := datakeys.New(pool).Made(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("ORDERAPI_PERSONAL_DATA_SEALING=off: the database holds personal data sealed under %d data keys, "+
			"which a service that does not seal cannot read; turn sealing off on a database of its own", n)
	}
	return nil
}

// newKeyring returns the keyring of the customers' data keys, kept in
// the primary's customer_data_keys (pool) and wrapped by masters: one per
// process, shared by every store it makes, the standbys' too.
func newKeyring(pool *pgxpool.Pool, masters *personaldata.MasterKeys) *personaldata.Keyring {
	return personaldata.NewKeyring(datakeys.New(pool), masters)
}

// openKeyring is the keyring of a command other than serve: the master
// keys loaded, checked against the data keys (checkMasterKeys), and a
// keyring over them.
func openKeyring(ctx context.Context, cfg config, pool *pgxpool.Pool, log zerolog.Logger) (*personaldata.Keyring, error) {
	masters, err := loadMasterKeys(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := checkMasterKeys(ctx, pool, masters, currentMasterKeyName(cfg)); err != nil {
		return nil, err
	}
	return newKeyring(pool, masters), nil
}

// currentMasterKeyName says where the current master key came from, as
// errors name it: ORDERAPI_MASTER_KEY_FILE, or the development folder
// when development mode made or read it there.
func currentMasterKeyName(cfg config) string {
	if cfg.MasterKey.File == "" && cfg.Auth.Mode == authDev {
		return "the development master key in " + filepath.Join(cfg.Auth.DevDir, personaldata.DevMasterKeyFile) +
			" (ORDERAPI_MASTER_KEY_FILE is not set)"
	}
	return "the master key in ORDERAPI_MASTER_KEY_FILE"
}

// checkMasterKeys refuses a configuration that lacks the master key the
// database is bound to (the first replica's; see datakeys.BindMaster), or
// one some live data key is wrapped by: the personal data that key seals
// could be neither read nor written, and two replicas with different
// master keys would each fail the other's customers. It names each
// missing key and how many data keys it wraps; current says where the
// current master key came from.
func checkMasterKeys(ctx context.Context, pool *pgxpool.Pool, masters *personaldata.MasterKeys, current string) error {
	keys := datakeys.New(pool)
	bound, err := keys.BindMaster(ctx, masters.Current().ID())
	if err != nil {
		return err
	}
	if _, ok := masters.ByID(bound); bound != "" && !ok {
		return fmt.Errorf("the database is bound to master key %s, and %s is key %s: "+
			"give every replica the same master key file (a rotation keeps the old one in ORDERAPI_MASTER_KEY_PREVIOUS_FILES "+
			"until orderapi keys rewrap has finished)", bound, current, masters.Current().ID())
	}
	wrapped, err := keys.WrappedBy(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for id, n := range wrapped {
		if _, ok := masters.ByID(id); !ok {
			missing = append(missing, fmt.Sprintf("%s (%d data keys)", id, n))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("customers' data keys are wrapped by master keys this configuration lacks: %s; "+
		"set ORDERAPI_MASTER_KEY_FILE to the current master key, and ORDERAPI_MASTER_KEY_PREVIOUS_FILES to those it replaced "+
		"until orderapi keys rewrap has re-wrapped their data keys (%s is key %s)",
		strings.Join(missing, ", "), current, masters.Current().ID())
}

// openKeyed opens the pool of a command that reads the events of a
// database this build migrated, and the keyring of their personal data;
// the caller closes the pool.
func openKeyed(ctx context.Context, cfg config, log zerolog.Logger) (*pgxpool.Pool, *personaldata.Keyring, error) {
	pool, _, err := openPool(ctx, cfg, nil)
	if err != nil {
		return nil, nil, err
	}
	keyring, err := func() (*personaldata.Keyring, error) {
		if err := schemaCurrent(ctx, pool, log); err != nil {
			return nil, err
		}
		return openKeyring(ctx, cfg, pool, log)
	}()
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return pool, keyring, nil
}

// erasureNews is what a replica does when told of an erasure (a handler
// of its listener on datakeys.ErasedChannel): its keyring, if it has one
// (not with sealing off), forgets the customer's keys, and its service
// the states it keeps of the customer's orders, which hold the
// customer's personal data; when it may miss or have missed an erasure
// (its listener lost its session, or listens again), everything. svc is set once the service is made: until then it keeps
// no state.
type erasureNews struct {
	keys datakeys.Forgetter
	svc  atomic.Pointer[app.Service]
}

// Notified forgets the customer the payload names.
func (n *erasureNews) Notified(payload string) {
	if n.keys.Keyring != nil {
		n.keys.Notified(payload)
	}
	svc := n.svc.Load()
	if svc == nil {
		return
	}
	// Off the listener's goroutine: it waits for the commands in flight.
	if id, err := uuid.Parse(payload); err == nil {
		go svc.ForgetCustomer(id)
	} else {
		go svc.ForgetStates()
	}
}

// Listening forgets everything.
func (n *erasureNews) Listening() {
	if n.keys.Keyring != nil {
		n.keys.Listening()
	}
	n.forgetStates()
}

// Lost forgets everything: erasures go unheard until the listener
// listens again.
func (n *erasureNews) Lost() {
	if n.keys.Keyring != nil {
		n.keys.Lost()
	}
	n.forgetStates()
}

// forgetStates has the service, if made, drop every state it keeps, off
// the listener's goroutine.
func (n *erasureNews) forgetStates() {
	if svc := n.svc.Load(); svc != nil {
		go svc.ForgetStates()
	}
}
