package rules

// ActorType is what kind of body an actor of the pack is: its rule's
// label in the actors section.
type ActorType string

// Actor types.
const (
	ActorState    ActorType = "state"    // a state or its government
	ActorUN       ActorType = "un"       // a UN body or official
	ActorIGO      ActorType = "igo"      // another intergovernmental body
	ActorNGO      ActorType = "ngo"      // a civil society organisation
	ActorCompany  ActorType = "company"  // a company or an industry group
	ActorPress    ActorType = "press"    // a news outlet (its items are the outlet's, not a speaker's)
	ActorAcademia ActorType = "academia" // a university or a researcher
)

// ActorTypes are the types an actor may have, in this order.
func ActorTypes() []ActorType {
	return []ActorType{ActorState, ActorUN, ActorIGO, ActorNGO, ActorCompany, ActorPress, ActorAcademia}
}
