"""Console labels of the vehicle registry page (merged into csms.web.console.i18n.LABELS)."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "vehicles": ("Vehicles", "Véhicules"),
    "vehicle": ("Vehicle", "Véhicule"),
    "vehicle_battery": ("Battery (kWh)", "Batterie (kWh)"),
    "vehicle_ac": ("AC (kW)", "AC (kW)"),
    "vehicle_ac_phases": ("AC phases", "Phases AC"),
    "vehicle_dc": ("DC (kW)", "DC (kW)"),
    "vehicle_v2g": ("V2G", "V2G"),
    "vehicle_ev_id": ("EV identity (EVCCID / eMAID)", "Identité du VE (EVCCID / eMAID)"),
    "vehicle_charging": ("Charging now", "En charge"),
    "vehicle_add": ("Add a vehicle", "Ajouter un véhicule"),
    "vehicle_link": ("Link a vehicle", "Associer un véhicule"),
    "vehicle_custom": ("(enter the facts)", "(saisir les caractéristiques)"),
    "vehicle_from_model": ("Empty fields take the model's figures.",
                           "Les champs vides prennent les valeurs du modèle."),
    "vehicle_seed": ("Add the catalogue's 14 models", "Ajouter les 14 modèles du catalogue"),
    "vehicle_seeded": ("{0} vehicles added.", "{0} véhicules ajoutés."),
    "vehicle_delete": ("Delete", "Supprimer"),
    "vehicle_deleted": ("Vehicle deleted.", "Véhicule supprimé."),
    "vehicle_none": ("No vehicle registered yet.", "Aucun véhicule enregistré."),
    "vehicle_operator_only": ("Only operators and admins can change the registry.",
                              "Seuls les opérateurs et administrateurs peuvent modifier le "
                              "registre."),
    "vehicle_catalogue": ("Model catalogue", "Catalogue des modèles"),
    "vehicle_source": ("Source", "Source"),
    "vehicle_link_help": ("A session is this vehicle's when it is started with the linked id "
                          "token, or when a 2.0.1 / 2.1 charger reports the EV identity "
                          "(Autocharge MAC address, Plug & Charge contract id) as its token.",
                          "Une session est celle de ce véhicule si elle démarre avec le badge "
                          "associé, ou si une borne 2.0.1 / 2.1 transmet l'identité du VE "
                          "(adresse MAC Autocharge, contrat Plug & Charge) comme badge."),
}
