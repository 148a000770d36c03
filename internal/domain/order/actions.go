package order

import "slices"

// Action names a command a user may issue on an existing order.
type Action string

// The actions, named as frontends show them.
const (
	ActionAddItem    Action = "add_item"
	ActionRemoveItem Action = "remove_item"
	ActionPlace      Action = "place"
	ActionShip       Action = "ship"
	ActionDeliver    Action = "deliver"
	ActionCancel     Action = "cancel"
)

// allowed is the state machine, stated once: which actions each status
// permits. Commands check it and AllowedActions shows it.
var allowed = map[Status][]Action{
	StatusDraft:   {ActionAddItem, ActionRemoveItem, ActionPlace, ActionCancel},
	StatusPlaced:  {ActionShip, ActionCancel},
	StatusShipped: {ActionDeliver},
}

// AllowedActions lists the actions the order's status permits, less the
// item changes once its history has no room for them, so a client can
// offer only commands that will not be refused for the state.
func (o *Order) AllowedActions() []Action {
	actions := append([]Action{}, allowed[o.Status]...)
	if o.checkHistoryRoom() != nil {
		actions = slices.DeleteFunc(actions, func(a Action) bool { return a == ActionAddItem || a == ActionRemoveItem })
	}
	return actions
}

// can returns the rule error for an action the status forbids.
func (o *Order) can(a Action) error {
	for _, ok := range allowed[o.Status] {
		if ok == a {
			return nil
		}
	}
	switch a {
	case ActionShip:
		return ruleError(ErrNotPlaced, "order %s is %s; only a placed order can be shipped", o.ID, o.Status)
	case ActionDeliver:
		return ruleError(ErrNotShipped, "order %s is %s; only a shipped order can be delivered", o.ID, o.Status)
	case ActionCancel:
		if o.Status == StatusCancelled {
			return ruleError(ErrAlreadyCancelled, "order %s is already cancelled", o.ID)
		}
		return ruleError(ErrNotCancellable, "order %s is %s; only a draft or placed order can be cancelled", o.ID, o.Status)
	default:
		return ruleError(ErrNotDraft, "order %s is %s; only a draft order can be changed or placed", o.ID, o.Status)
	}
}
