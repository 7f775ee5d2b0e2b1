"""Smart charging in the loop: snapshot a site, run its policy online, send the limits that
changed, verify that chargers obey (see docs/smart-charging.md)."""
