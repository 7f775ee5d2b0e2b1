"""English and French labels of the per-site forms (tariff editor, policy parameters, ROI
inputs) and of the payback explanation; merged into ``i18n.LABELS``."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    # Tariff editor
    "tariff_h": ("Tariff", "Tarif"),
    "tariff_mode_default": ("ONEE default (peak 18-21 h 1.85, normal 1.35, off-peak 22-05 h "
                            "0.95 MAD/kWh, all year)",
                            "Tarif ONEE par défaut (pointe 18-21 h 1,85, normal 1,35, creuses "
                            "22-05 h 0,95 MAD/kWh, toute l'année)"),
    "tariff_mode_custom": ("This site's own tariff, as entered below",
                           "Tarif propre au site, tel que saisi ci-dessous"),
    "tariff_start_hint": ("The fields show the ONEE default: to start from it, edit them and "
                          "choose the second option.",
                          "Les champs montrent le tarif ONEE par défaut : pour partir de lui, "
                          "modifiez-les et choisissez la seconde option."),
    "tariff_rules": ("Each day type's bands must cover 00:00-24:00 without overlap (an end "
                     "before the start runs past midnight); the seasons must cover the whole "
                     "year (dates inclusive); prices are finite and >= 0.",
                     "Les plages de chaque type de jour doivent couvrir 00:00-24:00 sans "
                     "chevauchement (une fin avant le début passe minuit) ; les saisons doivent "
                     "couvrir toute l'année (dates incluses) ; les prix sont finis et >= 0."),
    "tariff_name": ("Tariff name", "Nom du tarif"),
    "time_zone": ("Time zone", "Fuseau horaire"),
    "bands_prices": ("Bands and prices", "Plages et prix"),
    "price_mad_per_kwh": ("Price (MAD/kWh)", "Prix (MAD/kWh)"),
    "peak_band_label": ("Peak band (the one peak shaving avoids)",
                        "Plage de pointe (celle qu'évite l'écrêtement)"),
    "new_band_hint": ("Last row empty: to add a band.", "Dernière ligne vide : pour ajouter une plage."),
    "season": ("Season", "Saison"),
    "season_new": ("New season (leave empty if none)", "Nouvelle saison (laisser vide sinon)"),
    "season_from": ("From (MM-DD)", "Du (MM-JJ)"),
    "season_to": ("To (MM-DD, inclusive)", "Au (MM-JJ, inclus)"),
    "season_prices": ("Prices this season (MAD/kWh; empty: the band's price)",
                      "Prix de cette saison (MAD/kWh ; vide : le prix de la plage)"),
    "day_type": ("Days", "Jours"),
    "hours_from": ("From (HH:MM)", "De (HH:MM)"),
    "hours_to": ("To (HH:MM, 24:00 = midnight)", "À (HH:MM, 24:00 = minuit)"),
    "wd_mon": ("Mon", "Lun"), "wd_tue": ("Tue", "Mar"), "wd_wed": ("Wed", "Mer"),
    "wd_thu": ("Thu", "Jeu"), "wd_fri": ("Fri", "Ven"), "wd_sat": ("Sat", "Sam"),
    "wd_sun": ("Sun", "Dim"),
    "subscribed_power": ("Subscribed power (kW)", "Puissance souscrite (kW)"),
    "demand_charge": ("Demand charge (MAD per kW per month; empty: none)",
                      "Prime de puissance (MAD par kW et par mois ; vide : aucune)"),
    "not_saved": ("Not saved, nothing changed:", "Non enregistré, rien n'a changé :"),
    # Policy parameters
    "policy_params_h": ("Smart-charging policy and parameters",
                        "Stratégie de recharge et paramètres"),
    "default_is": ("empty: {0}", "vide : {0}"),
    "pp_phase_limit_kw": ("Phase limit", "Limite par phase"),
    "pph_phase_limit_kw": ("Most one phase of the connection may carry.",
                           "Puissance maximale sur une phase du raccordement."),
    "pp_default_energy_kwh": ("Energy of an unknown stay", "Énergie d'un séjour inconnu"),
    "pph_default_energy_kwh": ("Planned for a car that says nothing, before the site has "
                               "history (weighs as 5 sessions).",
                               "Prévue pour un véhicule qui n'annonce rien, tant que le site n'a "
                               "pas d'historique (pèse comme 5 sessions)."),
    "pp_default_dwell_s": ("Length of an unknown stay", "Durée d'un séjour inconnu"),
    "pph_default_dwell_s": ("How long such a car is expected to stay plugged in.",
                            "Combien de temps un tel véhicule restera branché."),
    "pp_min_change_w": ("Smallest limit change sent", "Plus petit changement de limite envoyé"),
    "pph_min_change_w": ("A new limit closer than this to the one in force is not sent "
                         "(fewer SetChargingProfile calls).",
                         "Une nouvelle limite plus proche que cela de celle en vigueur n'est "
                         "pas envoyée (moins d'appels SetChargingProfile)."),
    "pp_lease_s": ("Limit lease", "Durée de validité d'une limite"),
    "pph_lease_s": ("How long a sent limit lasts on the charger; renewed with a third left. "
                    "If the CSMS goes silent, the charger's fail-safe applies after it.",
                    "Durée d'une limite envoyée à la borne, renouvelée au dernier tiers. Si le "
                    "CSMS se tait, la valeur de repli de la borne s'applique ensuite."),
    "pp_plan_period_s": ("Planning step", "Pas de planification"),
    "pph_plan_period_s": ("Length of one period of the plan; longer steps keep the "
                          "optimisation small for day-long stays.",
                          "Durée d'une période du plan ; un pas plus long garde l'optimisation "
                          "petite pour des séjours d'une journée."),
    # ROI inputs
    "economics_h": ("Return on investment: inputs", "Retour sur investissement : données"),
    "economics_hint": ("Empty: the project's default (shown), an order of magnitude, not a "
                       "quote. Enter your own prices.",
                       "Vide : la valeur par défaut du projet (affichée), un ordre de grandeur, "
                       "pas un devis. Saisissez vos propres prix."),
    "kind_ac7": ("AC 7 kW", "AC 7 kW"), "kind_ac22": ("AC 22 kW", "AC 22 kW"),
    "kind_dc50": ("DC 50 kW", "DC 50 kW"), "kind_dc150": ("DC 150 kW", "DC 150 kW"),
    "charger_capex": ("Charger hardware (MAD each)", "Matériel de la borne (MAD pièce)"),
    "installation": ("Installation (MAD each)", "Installation (MAD pièce)"),
    "econ_maintenance_pct_of_hardware_per_year": ("Maintenance (% of hardware per year)",
                                                  "Maintenance (% du matériel par an)"),
    "econ_software_mad_per_charger_month": ("Software, SIM, fees (MAD per charger per month)",
                                            "Logiciel, SIM, frais (MAD par borne et par mois)"),
    "econ_selling_price_mad_per_kwh": ("Selling price (MAD/kWh)", "Prix de vente (MAD/kWh)"),
    "econ_grid_connection_capex_mad": ("Grid connection works (MAD)",
                                       "Travaux de raccordement (MAD)"),
    "econ_fleet_size": ("Fleet size (vehicles served)", "Taille de la flotte (véhicules servis)"),
    # Payback on /costs
    "payback_how": ("How it is computed", "Comment c'est calculé"),
    "payback_formula": (
        "Months = CAPEX / monthly margin. Margin = energy sold x selling price - energy cost - "
        "OPEX. Energy and its cost: this site's sessions of the last 30 days (or of its history "
        "if shorter, at least a day), at the tariff's price when they charged, scaled to a month. OPEX = maintenance % x hardware / 12 + software x chargers. "
        "Demand charges are not counted. Never: the margin is not positive.",
        "Mois = CAPEX / marge mensuelle. Marge = énergie vendue x prix de vente - coût de "
        "l'énergie - OPEX. L'énergie et son coût : les sessions de ce site sur les 30 derniers "
        "jours (ou sur son historique s'il est plus court, au moins un jour), au prix du tarif "
        "quand elles ont chargé, ramenées à un mois. OPEX = maintenance % x matériel / 12 + "
        "logiciel x bornes. Les primes de puissance ne sont pas comptées. Jamais : la marge "
        "n'est pas positive."),
    "capex_hw": ("Hardware", "Matériel"),
    "capex_total": ("CAPEX", "CAPEX"),
    "opex_month": ("OPEX per month", "OPEX par mois"),
    "maintenance_month": ("maintenance", "maintenance"),
    "software_month": ("software", "logiciel"),
    "revenue_month": ("Revenue per month", "Recettes par mois"),
    "energy_cost_month": ("Energy cost per month", "Coût de l'énergie par mois"),
    "margin_month": ("Margin per month", "Marge par mois"),
    "energy_sold_30d": ("Energy sold per month (measured over {0} days)",
                        "Énergie vendue par mois (mesurée sur {0} jours)"),
    "per_vehicle": ("Per vehicle of the fleet", "Par véhicule de la flotte"),
    "edit_inputs": ("Edit the inputs", "Modifier les données"),
    "no_chargers": ("No chargers in this site.", "Aucune borne dans ce site."),
}
