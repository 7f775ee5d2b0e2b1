"""Console labels of the security pages (merged into csms.web.console.i18n.LABELS)."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "certificates": ("Certificates", "Certificats"),
    "security": ("Security", "Sécurité"),
    "security_profile": ("Security profile", "Profil de sécurité"),
    "profile_0": ("0: no authentication", "0 : sans authentification"),
    "profile_1": ("1: Basic auth over ws", "1 : Basic sur ws"),
    "profile_2": ("2: TLS + Basic auth", "2 : TLS + Basic"),
    "profile_3": ("3: TLS + client certificate", "3 : TLS + certificat client"),
    "transport": ("Connection", "Connexion"),
    "password_pending": ("New password awaiting the charger's confirmation",
                         "Nouveau mot de passe en attente de confirmation"),
    "rotate_password": ("Set a new password", "Nouveau mot de passe"),
    "password_sent": ("New password sent; the old one works until the charger confirms.",
                      "Nouveau mot de passe envoyé ; l'ancien reste valable jusqu'à "
                      "confirmation."),
    "certificate": ("Certificate", "Certificat"),
    "state": ("State", "État"),
    "subject": ("Subject", "Sujet"),
    "issuer": ("Issuer", "Émetteur"),
    "expires": ("Expires", "Expire"),
    "days_left": ("Days left", "Jours restants"),
    "last_used": ("Last used", "Dernière utilisation"),
    "security_events": ("Security events", "Événements de sécurité"),
    "no_certificate": ("No certificate.", "Aucun certificat."),
    "alert_security_event": ("Charger {0} reported a critical security event: {1}",
                             "La borne {0} a signalé un événement de sécurité critique : {1}"),
    "alert_cert_expiry": ("The certificate of charger {0} expires in {1} days",
                          "Le certificat de la borne {0} expire dans {1} jours"),
}
