"""The commented configuration file written by ``zoom-brevo init``."""

from __future__ import annotations

TEMPLATE_ENV_VARS = (
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "BREVO_API_KEY",
)

TEMPLATE = """\
# zoom-brevo configuration.
#
# ${VAR} is replaced by the environment variable VAR (an error if it is not set);
# ${VAR:-default} falls back to "default" when VAR is unset or empty; $$ is a literal $.
# Keep secrets in the environment, not in this file. Unknown keys are errors.
# Check the result with:  zoom-brevo check

connectors:
  zoom:
    enabled: true
    # Zoom Marketplace -> your Server-to-Server OAuth app -> App Credentials.
    account_id: "${ZOOM_ACCOUNT_ID}"
    client_id: "${ZOOM_CLIENT_ID}"
    client_secret: "${ZOOM_CLIENT_SECRET}"
    plan: pro                 # free | pro | business: sets the Zoom API rate limits
    api_base_url: https://api.zoom.us/v2
    oauth_base_url: https://zoom.us            # token endpoint is {oauth_base_url}/oauth/token
    sync:
      participants: true      # meeting participants become Brevo contacts
      webinars: true          # webinar registrants, attendees and absentees
      recordings: true        # recording links reach attendees (see brevo.recordings)
      attendance_tiers: []    # e.g. [90, 50]: one zoom_attended_tier event per attendee
    webhook:
      # Your app's "Secret Token" (Features -> Event Subscriptions); needed by `serve`.
      secret_token: "${ZOOM_WEBHOOK_SECRET:-}"
      verification_token: "${ZOOM_VERIFICATION_TOKEN:-}"   # legacy, optional
      # Oldest signed request accepted, in seconds. Zoom retries a failed delivery after 5,
      # 20 and 60 minutes and does not document whether a retry gets a fresh timestamp, so
      # keep this above 85 minutes (5100). Replayed requests are caught by de-duplication,
      # not by a tight window. Timestamps more than 5 minutes ahead are always refused.
      tolerance_s: 7200
    lists:                    # Brevo list ids (Contacts -> Lists), or null for none
      meeting_participants: null
      webinar_attendees: null
      webinar_registrants: null
      webinar_absentees: null
    collect:
      delay_s: 300              # after a meeting/webinar ends, wait this long before collecting
                                # the final attendance (0 = at once; retried while not ready)
      reconcile_after_s: 86400  # a second collection pass later; 0 = none
      sweep_interval_s: 3600    # how often ended meetings no webhook announced are looked for
      sweep_days: 2             # how many days back that sweep looks
    # Brevo -> Zoom: whoever enters a list (a Brevo form, an import) is registered into the
    # webinar (or meeting) and gets ZOOM_JOIN_URL on their contact, like `zoom-brevo register`.
    registration:
      poll_interval_s: 300      # how often the lists are read; 0 = never
      from_lists: []            # e.g. - {list_id: 12, webinar_id: 84712389925, occurrence_id: null}
                                # or a meeting: - {list_id: 14, meeting_id: 81234567890}
      # Within seconds instead of at the next poll: Brevo calls POST /webhooks/brevo with this
      # token when someone enters a list (`zoom-brevo setup-brevo` creates that webhook).
      brevo_webhook_token: null # e.g. "${BREVO_WEBHOOK_TOKEN}"
      brevo_webhook_url: null   # e.g. https://connector.example.com/webhooks/brevo
    exclude_domains: []         # e-mail domains never sent to Brevo (e.g. your own)
    debug: false                # true: JSON logs with request details
    log_level: info             # verbose | debug | info | warning | error
    log_webhooks: false         # log incoming webhook payloads (personal data is masked)
    # User-level OAuth (a Zoom "General app" acting for one user), off while null. To use it,
    # set storage.encryption_key and replace null with (then open /oauth/authorize once):
    #   redirect_uri: https://connector.example.com/oauth/callback   # this server's callback
    #   client_id: "${ZOOM_USER_CLIENT_ID}"          # default: client_id/client_secret above
    #   client_secret: "${ZOOM_USER_CLIENT_SECRET}"  # leave out for a public (PKCE) client
    oauth: null

brevo:
  api_key: "${BREVO_API_KEY}"   # Brevo -> SMTP & API -> API keys (required)
  base_url: https://api.brevo.com/v3
  plan: general                 # general | advanced | extended: sets the Brevo rate limits
  recordings:
    mode: event               # event | transactional | campaign | off
    template_id: null         # Brevo template for transactional/campaign
    sender: null              # {name, email} for campaigns

# Logical field -> Brevo contact attribute. `zoom-brevo setup-brevo` creates the attributes.
field_mapping:
  email: email
  name: FIRSTNAME
  last_name: LASTNAME
  join_time: MEETING_JOIN_DATE
  duration: MEETING_DURATION
  webinar_title: WEBINAR_NAME
  occurrence: ZOOM_LAST_OCCURRENCE
  replay_watched: ZOOM_REPLAY_WATCHED
  attendance_status: ATTENDANCE_STATUS
  registration_source: UTM_SOURCE
  attendance_ratio: ZOOM_ATTENDANCE_RATIO
  attendance_percent: ZOOM_ATTENDANCE_PERCENT
  meetings_attended: ZOOM_MEETINGS_ATTENDED
  total_minutes: ZOOM_TOTAL_MINUTES
  last_attended: ZOOM_LAST_ATTENDED
  engagement_score: ZOOM_ENGAGEMENT_SCORE
  questions_asked: null        # Q&A questions asked in the latest webinar (a number attribute)
  polls_answered: null         # polls answered in the latest webinar (a number attribute)
  # Registration form answers (Zoom's standard fields), sent when mapped; null = not sent.
  org: null
  job_title: null
  industry: null
  country: null
  city: null
  state: null
  zip: null
  address: null
  phone: null
  purchasing_time_frame: null
  role_in_purchase_process: null
  no_of_employees: null
  comments: null
  custom_questions: {}        # the webinar's own questions: {"Question as in Zoom": ATTRIBUTE}
  # Webinar poll and survey questions: the last answer in the latest webinar, to a text
  # attribute; other questions are ignored. {"Which plan are you on?": ZOOM_POLL_PLAN}
  poll_questions: {}
  survey_questions: {}        # read only when mapped; a plan without surveys is skipped

storage:
  url: sqlite:///zoom-brevo.db                 # or postgresql+psycopg://user@host/db
  encryption_key: null        # key for tokens stored at rest (required for user-level OAuth)
                              # several keys, newest first, to rotate: [new, old], then run
                              # `zoom-brevo rotate-key`. Make a key with:
                              # python -c "import zoom_brevo.crypto as c; print(c.generate_key())"

server:
  host: 127.0.0.1
  port: 8080
  admin_token: null           # bearer token for /admin; null = admin pages disabled

delivery:
  lease_s: 8                  # seconds a worker holds a batch or job without renewing it
                              # (renewed every third of it while it runs): a dead worker's
                              # work is taken over this long after its last renewal
  in_doubt: hold              # hold | resend: an event batch cut off mid-send is looked up
                              # at Brevo first; if that lookup fails, hold its events (status,
                              # then `zoom-brevo retry`) or send them (may arrive twice)
"""
