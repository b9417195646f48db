import { postgresConfigured, postgresKind } from '../helpers.js';
import { storeContract } from './contract.js';

if (postgresConfigured()) storeContract(postgresKind());
