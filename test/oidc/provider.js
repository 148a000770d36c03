// A real OpenID Connect provider (oidc-provider) on loopback, for orderapi's
// end-to-end authentication test. It issues client-credentials access tokens
// as signed JWTs addressed to one resource server, with a "roles" claim taken
// from the client's registration.
//
//   node provider.js --port 0 --keys keys.json --clients clients.json --resource urn:orderapi
//
// --keys: a private JSON Web Key Set, all of it published; tokens are signed
//   with the first key's algorithm. Rotation is a restart on the same port
//   (same issuer) with a different file.
// --clients: [{"client_id", "client_secret", "roles": [...]}, ...]
// --resource: the resource indicator clients ask for; tokens carry it as aud.
// --port (or OIDC_PORT): 0, the default, picks a free one. Once listening, one JSON line goes to stdout:
//   {"issuer": "...", "port": N}
// The process ends on SIGTERM or SIGINT, or when stdin closes, so that it
// does not outlive a test that dies.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    keys: { type: 'string' },
    clients: { type: 'string' },
    resource: { type: 'string' },
  },
});
for (const name of ['keys', 'clients', 'resource']) {
  if (!args[name]) {
    process.stderr.write(`provider.js: --${name} is required\n`);
    process.exit(2);
  }
}

const jwks = JSON.parse(readFileSync(args.keys, 'utf8'));
const clients = JSON.parse(readFileSync(args.clients, 'utf8'));
// A set of one P-256 key gives ES256 tokens, one of an RSA key RS256.
const signingAlg = jwks.keys[0].alg;

const server = createServer();
// The issuer names the port, so the provider is made once the port is known.
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    jwks,
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      roles: c.roles,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signingAlg,
    })),
    extraClientMetadata: {
      properties: ['roles'],
      validator(ctx, key, value) {
        if (key === 'roles' && !(Array.isArray(value) && value.every((r) => typeof r === 'string'))) {
          throw new Error('roles must be an array of strings');
        }
      },
    },
    // Roles are the client's, registered above; orderapi reads them from
    // its roles claim.
    extraTokenClaims(ctx) {
      const roles = ctx.oidc.client?.roles;
      return roles ? { roles } : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // A request that names no resource still gets a token for orderapi.
        defaultResource: () => args.resource,
        getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator !== args.resource) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: '',
            audience: args.resource,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signingAlg } },
          };
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: [signingAlg],
    },
    cookies: { keys: ['orderapi-test-oidc-only'] },
  });
  provider.on('server_error', (ctx, err) => process.stderr.write(`provider.js: ${err.stack}\n`));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

// Nothing is kept that would need saving: tokens live in memory only.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
