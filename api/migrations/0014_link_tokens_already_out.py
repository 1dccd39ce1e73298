"""Linked apps for the tokens already out when the table came (0010): an app that holds a
live token of a customer who has not left is linked since its first one, with the scopes
it got. In a migration of its own: its rows' deferred key checks must not be pending
while 0010 still alters the table."""

from django.db import migrations

LINK_TOKENS_ALREADY_OUT = """
INSERT INTO api_linkedapp (customer_id, application_id, authorised_at, scope, revoked_by)
SELECT customer.id, token.application_id, min(token.created),
       coalesce(max(token.scope), ''), ''
  FROM (SELECT user_id, application_id, created, scope FROM oauth2_provider_accesstoken
         WHERE user_id IS NOT NULL AND application_id IS NOT NULL AND expires > now()
        UNION ALL
        SELECT refresh.user_id, refresh.application_id, refresh.created, access.scope
          FROM oauth2_provider_refreshtoken AS refresh
          LEFT JOIN oauth2_provider_accesstoken AS access ON access.id = refresh.access_token_id
         WHERE refresh.user_id IS NOT NULL AND refresh.revoked IS NULL) AS token
  JOIN oauth2_provider_application AS app ON app.id = token.application_id
  JOIN consent_customer AS customer ON customer.user_id = token.user_id
 WHERE app.authorization_grant_type = 'authorization-code' AND customer.closed_on IS NULL
 GROUP BY customer.id, token.application_id
"""


class Migration(migrations.Migration):
    dependencies = [("api", "0013_linked_apps")]

    operations = [migrations.RunSQL(LINK_TOKENS_ALREADY_OUT, migrations.RunSQL.noop)]
