"""The network: sharing rules, forwarding, feedback, notice-and-takedown and federation between
Vigil instances (services over vigil.reports and vigil.store)."""
