"""Sites: CRUD and charger membership, a site's snapshot for the control loop, its load
series and KPIs."""
