"""The commented example credwatch.toml that `credwatch init` writes."""

EXAMPLE = """\
# credwatch configuration. Secrets never go here: they come from environment variables
# (CREDWATCH_HMAC_KEY, CREDWATCH_DSN, tokens and webhook URLs named below).

[organisation]
name = "France Travail"
# Hosts equal to or under these domains match (label boundary, never a substring).
domains = ["francetravail.fr", "pole-emploi.fr"]
# Partner portals: the most severe kind of host match (host plus path prefix).
portals = ["https://portail-partenaire.francetravail.fr/kairos"]

[[partners]]
name = "Organisme de formation, Isère"
email_domains = ["formation-isere.example"]
security_contact = "rssi@formation-isere.example"

[accounts]
# Monitored accounts: matched case-insensitively and exactly, whatever the site.
logins = ["jdupont.of38", "m.martin@formation-isere.example"]
# file = "accounts.csv"   # columns: login, partner, idp, idp_user_id

[scan]
# archive_passwords = ["infected"]  # tried on encrypted archives
# max_depth = 4                      # archives inside archives
# max_line = 1048576                 # longer lines are counted and skipped
# workers = 2

# [notifiers.console]              # the default when no notifier is configured
# [notifiers.slack]
# webhook_url_env = "CREDWATCH_SLACK_WEBHOOK"
# [notifiers.email]
# host = "smtp.example.org"
# port = 587
# sender = "credwatch@example.org"
# to = ["soc@example.org"]          # admins: every alert
# username = "credwatch"
# password_env = "CREDWATCH_SMTP_PASSWORD"

# [serve]
# nightly = "30 2 * * *"            # cron, in the timezone below
# timezone = "Europe/Paris"
# sources = ["/srv/dumps"]
# watch_dir = "/srv/drop"
# metrics_host = "127.0.0.1"        # "0.0.0.0" inside a container
# metrics_port = 9185

# [retention]                       # personal data past this is purged daily by `serve`
# days = 365
# purge_at = "03:30"                # in [serve] timezone

# [policy]
# enforce = false                   # dry run: nothing is contained until this is true
# [policy.rules.login_elsewhere]    # per match kind and severity: contain, approve or alert
# high = "approve"
# [policy.suppress]                 # login = reason: recorded quietly, never contained
# "former.staff@formation-isere.example" = "left in 2024, account deleted"
"""
