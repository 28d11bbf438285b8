// A real OpenID Connect provider (oidc-provider) for Folio's single sign-on tests; tests/oidc_server.py starts it.
//
//   node provider.mjs <port> <json>    json: {"client_id", "client_secret", "redirect_uris": [...]}
//
// Anyone can sign in at its development login page: the "login" typed is the account. One that looks like an
// email address is that address (verified, unless it starts with "unverified"); its part before the @ is the
// preferred_username. Claims are put in the ID token itself, as Google and Entra ID do. No consent page: the
// client is the school's own, so a grant is made on the spot.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const options = JSON.parse(process.argv[3]);
const issuer = `http://127.0.0.1:${port}`;

function claimsOf(login) {
  const local = login.includes('@') ? login.split('@')[0] : login;
  const claims = { sub: login, name: local, preferred_username: local };
  if (login.includes('@')) {
    claims.email = login;
    claims.email_verified = !login.startsWith('unverified');
  }
  return claims;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: options.client_id,
    client_secret: options.client_secret,
    redirect_uris: options.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['folio-test-provider-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return { accountId: id, claims: async () => claimsOf(id) };
  },
  async loadExistingGrant(ctx) {
    const { session, params } = ctx.oidc;
    const grantId = session.grantIdFor(params.client_id);
    const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId)
      : new ctx.oidc.provider.Grant({ clientId: params.client_id, accountId: session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username']);
    await grant.save();
    return grant;
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
