// An independent verifier for Folio's Open Badges 3.0 credentials, on Digital Bazaar's libraries (pinned in
// package-lock.json). Reads {"credential": {...}, "documents": {url: document}} on stdin: `documents` holds what
// Folio published (the issuer document, status lists), fetched over HTTP by the test. Contexts come from Folio's
// vendored folder; any other URL is refused. Writes {"accepted": bool, "verified": bool, "error": "...", "status": {"verified": bool, "revoked": bool}}.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const here = dirname(fileURLToPath(import.meta.url));
const contextsFolder = join(here, '..', '..', 'app', 'services', 'badges', 'contexts');
const CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-context-3.0.3.json',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
};

const input = JSON.parse(readFileSync(0, 'utf8'));
const published = input.documents || {};

async function documentLoader(url) {
  if(CONTEXTS[url]) {
    const document = JSON.parse(readFileSync(join(contextsFolder, CONTEXTS[url]), 'utf8'));
    return {contextUrl: null, documentUrl: url, document};
  }
  const [base, fragment] = url.split('#');
  const document = published[base];
  if(!document) {
    throw new Error(`refused to load ${url}`);
  }
  if(fragment === undefined) {
    return {contextUrl: null, documentUrl: url, document};
  }
  // A key: the verification method of that id in its controller's document, with the controller's context.
  const method = (document.verificationMethod || []).find(entry => entry.id === url);
  if(!method) {
    throw new Error(`no verification method ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document: {'@context': document['@context'], ...method}};
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});

function describe(error) {
  if(!error) {
    return '';
  }
  const errors = Array.isArray(error) ? error : (error.errors || [error]);
  return errors.map(e => `${e.name}: ${e.message}${e.cause ? ` (${describe(e.cause)})` : ''}`).join('; ');
}

const result = await vc.verifyCredential({
  credential: input.credential, suite, documentLoader, checkStatus,
});
// The library's `verified` covers the proof and that the status list could be checked; a set bit (revoked) is
// reported beside it, for the relying party to refuse: `accepted` is that decision.
const statusResult = result.statusResult;
const revoked = statusResult?.results?.[0]?.status ?? null;
process.stdout.write(JSON.stringify({
  accepted: result.verified && revoked === false,
  verified: result.verified,
  error: describe(result.error) || describe(result.results?.find(r => !r.verified)?.error),
  status: statusResult ? {verified: statusResult.verified, revoked} : null,
}) + '\n');
