import { dropTestDatabases } from './helpers/test-database';

// Every test file's databases go when the file is done, whichever database kind the run uses.
afterAll(() => dropTestDatabases());
