package bulkload

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// shop is the made-up business whose orders a load records: its
// customers (each with a currency and an address of its own), a
// catalogue of products, the carriers it ships with. It is derived from
// the seed alone, so that a load can be made again.
type shop struct {
	customers []customer
	products  []product
}

type customer struct {
	id       uuid.UUID
	currency order.Currency
	address  order.Address
}

type product struct {
	id    uuid.UUID
	name  string
	price order.Amount
}

// catalogueSize is how many products the shop sells: orders share them,
// as a shop's orders do.
const catalogueSize = 10_000

func newShop(seed uint64, customers int) *shop {
	rng := rand.New(rand.NewPCG(seed, 0x73686f70)) // "shop"
	s := &shop{customers: make([]customer, customers), products: make([]product, catalogueSize)}
	for i := range s.customers {
		s.customers[i] = customer{id: v4(rng), currency: pick(rng, currencies), address: newAddress(rng)}
	}
	for i := range s.products {
		name := fmt.Sprintf("%s %s %s, %s, size %s", pick(rng, styles), pick(rng, materials), pick(rng, garments), pick(rng, colours), pick(rng, sizes))
		cents := int64(490+rng.IntN(24_500)) / 10 * 10 // 4.90 … 249.90
		if rng.IntN(3) == 0 {
			cents += 9
		}
		s.products[i] = product{id: v4(rng), name: name, price: mustAmount(decimal.New(cents, -2))}
	}
	return s
}

func newAddress(rng *rand.Rand) order.Address {
	city := pick(rng, cities)
	a := order.Address{
		Name:       pick(rng, firstNames) + " " + pick(rng, lastNames),
		Line1:      fmt.Sprintf("%d %s", 1+rng.IntN(240), pick(rng, streets)),
		City:       city.name,
		PostalCode: pick(rng, city.postal),
		Country:    city.country,
	}
	if rng.IntN(4) == 0 {
		a.Line2 = fmt.Sprintf("Apartment %d", 1+rng.IntN(80))
	}
	return a
}

// The words the shop's names are made of.
var (
	currencies = []order.Currency{"EUR", "EUR", "EUR", "EUR", "EUR", "USD", "USD", "USD", "GBP", "CHF"}
	styles     = []string{"Classic", "Slim-fit", "Relaxed", "Cropped", "Oversized", "Tailored", "Lightweight", "Heavyweight"}
	materials  = []string{"merino", "cotton", "linen", "cashmere", "denim", "wool-blend", "organic cotton", "silk"}
	garments   = []string{"crew-neck sweater", "cardigan", "shirt", "chinos", "jacket", "scarf", "polo", "overshirt", "t-shirt", "coat"}
	colours    = []string{"navy", "black", "off-white", "grey marl", "olive", "burgundy", "camel", "sky blue"}
	sizes      = []string{"XS", "S", "M", "L", "XL", "XXL"}
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus", "Radia", "Tim"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth", "Perlman", "Berners-Lee"}
	streets    = []string{"High Street", "Station Road", "Rue de la Paix", "Hauptstraße", "Main Street", "Kerkstraat", "Via Roma", "Calle Mayor"}
	cities     = []struct {
		name, country string
		postal        []string
	}{
		{"London", "GB", []string{"EC1A 1BB", "SW1A 2AA", "N1 9GU", "E2 8DY"}},
		{"Paris", "FR", []string{"75001", "75011", "75018", "75020"}},
		{"Berlin", "DE", []string{"10115", "10243", "10997", "12043"}},
		{"Amsterdam", "NL", []string{"1011 AB", "1053 CS", "1072 LH", "1094 KL"}},
		{"Milan", "IT", []string{"20121", "20135", "20144", "20159"}},
		{"Madrid", "ES", []string{"28001", "28012", "28015", "28045"}},
		{"Zurich", "CH", []string{"8001", "8004", "8037", "8050"}},
		{"New York", "US", []string{"10001", "10014", "10027", "11201"}},
	}
	// carriers' tracking numbers are a prefix and so many digits.
	carriers = []struct {
		name, prefix string
		digits       int
	}{{"UPS", "1Z", 16}, {"DHL", "JD", 18}, {"FedEx", "", 12}, {"USPS", "94", 18}, {"PostNL", "3S", 13}}
	cancelReasons = []string{"changed my mind", "found a better price", "ordered by mistake", "delivery too slow", "payment declined"}
)

func pick[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

// v4 is a random (version 4) UUID drawn from rng.
func v4(rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], rng.Uint64())
	binary.BigEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = 0x40 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u
}

// v7 is a time-ordered (version 7) UUID of instant t, its random bits
// drawn from rng: the service makes order, event and request ids so, from
// the time it makes them.
func v7(t time.Time, rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], rng.Uint64())
	binary.BigEndian.PutUint64(u[:8], uint64(t.UnixMilli())<<16|rng.Uint64()&0xffff)
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u
}

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// mustAmount is a catalogue price as the order takes it: cents always fit.
func mustAmount(d decimal.Decimal) order.Amount {
	a, ok := order.AmountFromDecimal(d)
	if !ok {
		panic("bulkload: price out of range: " + d.String())
	}
	return a
}
