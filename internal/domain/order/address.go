package order

// Address is where a placed order ships to. Line2 and Region are optional;
// Country is an ISO 3166-1 alpha-2 code.
type Address struct {
	Name       string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string
}

// Validate lists every problem with the address, with fields named as in
// the Placed event ("shipping_address.city").
func (a Address) Validate() error {
	var fe fieldErrors
	a.validate(&fe, "shipping_address.")
	return fe.err()
}

func (a Address) validate(fe *fieldErrors, prefix string) {
	fe.checkText(prefix+"name", a.Name, true, MaxAddressLen)
	fe.checkText(prefix+"line1", a.Line1, true, MaxAddressLen)
	fe.checkText(prefix+"line2", a.Line2, false, MaxAddressLen)
	fe.checkText(prefix+"city", a.City, true, MaxAddressLen)
	fe.checkText(prefix+"region", a.Region, false, MaxAddressLen)
	fe.checkText(prefix+"postal_code", a.PostalCode, true, MaxPostalCodeLen)
	if _, ok := countryCodes[a.Country]; !ok {
		fe.add(prefix+"country", FieldBadCountry, "must be an ISO 3166-1 alpha-2 code in upper case, e.g. \"US\"")
	}
}
