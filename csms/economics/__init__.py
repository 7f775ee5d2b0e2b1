"""Economics of a site: energy cost by band, measured savings of a policy, payback."""

from csms.economics.payback import Payback, PaybackInputs, payback, payback_months
from csms.economics.savings import PolicyCost, Savings, policy_cost, savings_vs_baseline

__all__ = ["Payback", "PaybackInputs", "PolicyCost", "Savings", "payback", "payback_months",
           "policy_cost", "savings_vs_baseline"]
