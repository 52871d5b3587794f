/*
 * threepc.pml -- Promela model of docplat's three-phase commit
 * (txn/PROTOCOL.md): one coordinator C, N participants (N=2 by default,
 * -DN=3 for three), crash failures of every party, a coordinator that may
 * restart from its durable log, participant timeouts with the termination
 * protocol (ask the coordinator, then the peers).
 *
 * Variants (spin -D...):
 *   (none)        PROTOCOL.md exactly as written.
 *   -DFIXED       the three fixes below (FIX_PROMOTE, FIX_RECOVERY,
 *                 FIX_STATUS); each can also be enabled on its own.
 *   -DN=3         three participants.
 *   -DNORECOVER   the coordinator is crash-stop (never restarts).
 *   -DMAXCRASH=k  at most k crashes in a run (default: every party may
 *                 crash once).
 *
 * Timing assumption (synchronous system): message delays are bounded and the
 * participants' timeouts are much longer than the coordinator's vote/ack
 * timeouts and than any message delay.  Hence
 *   - the coordinator's timeouts fire exactly when the awaited participant
 *     has crashed (guard `crashed[i]`: a perfect failure detector);
 *   - a participant's deadline can pass only while the coordinator is down
 *     (crashed and not yet restarted) and every message already sent to a
 *     live participant has been delivered and processed (guard
 *     `cdown && QUIET`).  Its termination protocol then runs step by step:
 *     the coordinator may restart, and peers may run theirs, in between.
 *
 * Properties:
 *   agreement   asserted at every decision: no party commits while another
 *               (participant, or the coordinator's logged outcome) aborts;
 *               no party changes its decision;
 *   validity    asserted at every commit: every participant voted yes
 *               (so nobody voted no); and at the end (Final): if every
 *               participant voted yes and nobody crashed, everyone committed;
 *   termination at every end state (Final, fired by `timeout` when nothing
 *               can move) every live participant that holds a row has
 *               decided and a live coordinator has logged an outcome and
 *               finished; also as LTL `<> terminated` (run with -a -f).
 */

#ifndef N
#define N 2
#endif
#define C N                     /* the coordinator's index in dec[] */

#ifdef FIXED
#define FIX_PROMOTE
#define FIX_RECOVERY
#define FIX_STATUS
#endif

#ifndef MAXCRASH
#define MAXCRASH (N+1)
#endif
#ifndef MAXCCRASH
#define MAXCCRASH 1             /* coordinator crashes per run */
#endif

/* participant rows (the barrier); NOANSWER: a peer or C did not answer */
mtype = { NONE, READY, PREC, COMMITTED, ABORTED, NOANSWER };

/* coordinator durable log */
mtype = { L_NONE, L_STARTED, L_PRECOMMIT, L_COMMITTING, L_ABORTED };

/* coordinator status answers (termination protocol) */
mtype = { ST_COMMIT, ST_ABORT, ST_PENDING };

/* decisions */
#define UNDEC  0
#define COMMIT 1
#define ABORT  2

mtype = { CanCommit, PreCommit, DoCommit, Abort,      /* C -> P requests */
          Yes, No, Ok, Refused, NoAnswer };           /* P -> C answers  */

/* ---- global state ---- */
mtype row[N] = NONE;            /* participant rows (durable)            */
bool crashed[N];                /* participant crashed (crash-stop)      */
mtype clog = L_NONE;            /* coordinator log (durable)             */
bool cdone;                     /* coordinator logged `done` (durable)   */
bool collecting;                /* coordinator is collecting votes       */
bool cdown;                     /* coordinator is down                   */
bool cdead;                     /* ... and will never restart            */
bool cfinished;                 /* coordinator process finished its work */
byte ccrashes;                  /* coordinator crashes so far            */
byte ncrash;                    /* crashes so far (all parties)          */
byte rnd;                       /* request round (ids of the RPCs)       */

byte dec[N+1];                  /* decisions: participants, then C       */
byte ncommit, nabort;           /* parties that decided commit / abort   */
byte nyes;                      /* participants that voted yes           */
bool anyNo;                     /* some participant voted no             */
bool heuristic;                 /* a refused DoCommit/Abort was seen     */

mtype ans[N];                   /* last answer of each participant ...   */
byte  ansr[N];                  /* ... and the round it answers          */
chan toP[N] = [4] of { mtype, byte };   /* requests from C, with round   */

/* every message already sent to a live participant has been processed */
#if N == 2
#define QUIET ((crashed[0] || len(toP[0]) == 0) && (crashed[1] || len(toP[1]) == 0))
#elif N == 3
#define QUIET ((crashed[0] || len(toP[0]) == 0) && (crashed[1] || len(toP[1]) == 0) && \
               (crashed[2] || len(toP[2]) == 0))
#else
#error "N must be 2 or 3"
#endif

/* coordinator rule 5: its status answer, from its log */
#ifdef FIX_STATUS
#define CSTATUS (clog == L_COMMITTING -> ST_COMMIT : \
                 ((clog == L_PRECOMMIT || (clog == L_STARTED && collecting)) -> ST_PENDING : ST_ABORT))
#else
#define CSTATUS ((clog == L_PRECOMMIT || clog == L_COMMITTING) -> ST_COMMIT : \
                 ((clog == L_STARTED && collecting) -> ST_PENDING : ST_ABORT))
#endif

/* a party decides: check agreement and validity on the spot */
inline decide(who, v) {
	if
	:: who == C && v == COMMIT -> printf("MSC: C DECIDES COMMIT\n")
	:: who == C && v == ABORT  -> printf("MSC: C DECIDES ABORT\n")
	:: who != C && v == COMMIT -> printf("MSC: P%d DECIDES COMMIT\n", who+1)
	:: who != C && v == ABORT  -> printf("MSC: P%d DECIDES ABORT\n", who+1)
	fi;
	if
	:: dec[who] == UNDEC ->
		dec[who] = v;
		if
		:: v == COMMIT -> ncommit++
		:: else -> nabort++
		fi
	:: else ->
		assert(dec[who] == v)               /* never changes its mind */
	fi;
	assert(ncommit == 0 || nabort == 0);        /* AGREEMENT */
	assert(v != COMMIT || (nyes == N && !anyNo)) /* VALIDITY: commit => all voted yes */
}

/* ================= participant (PROTOCOL.md, Participant) ================= */
proctype Part(byte me) {
	mtype m, st, reply;
	byte r, k;
	mtype pa[N];                /* the peers' answers */
	bool anyC, anyA, anyP, refused;

	{
end_wait:
	do
	/* rules 1 and 2: one message, handled in one local transaction */
	:: atomic {
		toP[me]?m,r ->
		if
		:: m == CanCommit ->
			if
			:: row[me] == ABORTED -> reply = No
			:: row[me] == READY || row[me] == PREC || row[me] == COMMITTED -> reply = Yes
			:: row[me] == NONE ->
				if
				:: row[me] = READY; nyes++; reply = Yes      /* reservation ok */
				:: row[me] = ABORTED; anyNo = true;           /* reservation failed */
				   decide(me, ABORT); reply = No
				fi
			fi
		:: m == PreCommit ->
			if
			:: row[me] == READY -> row[me] = PREC; reply = Ok
			:: row[me] == PREC || row[me] == COMMITTED -> reply = Ok
			:: else -> reply = Refused
			fi
		:: m == DoCommit ->
			if
			:: row[me] == READY || row[me] == PREC ->
				row[me] = COMMITTED; decide(me, COMMIT); reply = Ok
			:: row[me] == COMMITTED -> reply = Ok
			:: else -> reply = Refused
			fi
		:: m == Abort ->
			if
			:: row[me] == COMMITTED -> reply = Refused
			:: row[me] == ABORTED -> reply = Ok
			:: else -> row[me] = ABORTED; decide(me, ABORT); reply = Ok
			fi
		fi;
		printf("MSC: P%d: %e -> row %e, answers %e\n", me+1, m, row[me], reply)
	   };
		/* the answer travels after the durable write: a crash may fall between */
		atomic { ans[me] = reply; ansr[me] = r }

	/* rule 3: the deadline passed with no message */
	:: atomic { (row[me] == READY || row[me] == PREC) && cdown && QUIET ->
		printf("MSC: P%d: deadline passed in %e\n", me+1, row[me]) };
		/* ask the coordinator */
		if
		:: atomic { !cdown -> st = CSTATUS; printf("MSC: P%d: C's status: %e\n", me+1, st) }
		:: atomic { cdown -> st = NOANSWER; printf("MSC: P%d: C does not answer\n", me+1) }
		fi;
		if
		:: st == ST_COMMIT ->
			atomic { row[me] = COMMITTED; decide(me, COMMIT); printf("MSC: P%d: commits\n", me+1) }
		:: st == ST_ABORT ->
			atomic { row[me] = ABORTED; decide(me, ABORT); printf("MSC: P%d: aborts\n", me+1) }
		:: st == ST_PENDING -> skip            /* wait again */
		:: st == NOANSWER ->
			/* ask the other participants, one at a time */
			for (k : 0 .. N-1) {
				if
				:: k != me -> atomic { pa[k] = (crashed[k] -> NOANSWER : row[k]);
				                      printf("MSC: P%d: peer P%d answers %e\n", me+1, k+1, pa[k]) }
				:: else -> skip
				fi
			}
			atomic {
				anyC = false; anyA = false; anyP = (row[me] == PREC);
				for (k : 0 .. N-1) {
					if
					:: k != me && pa[k] == COMMITTED -> anyC = true
					:: k != me && (pa[k] == ABORTED || pa[k] == NONE) -> anyA = true
					:: k != me && pa[k] == PREC -> anyP = true
					:: else -> skip
					fi
				}
				if
				:: anyC -> row[me] = COMMITTED; decide(me, COMMIT);
				   printf("MSC: P%d: a peer committed: commits\n", me+1)
				:: !anyC && anyA -> row[me] = ABORTED; decide(me, ABORT);
				   printf("MSC: P%d: a peer aborted: aborts\n", me+1)
				:: !anyC && !anyA && anyP ->
#ifdef FIX_PROMOTE
					printf("MSC: P%d: some row precommitted: promotes first\n", me+1);
					goto promote
#else
					row[me] = COMMITTED; decide(me, COMMIT);
					printf("MSC: P%d: some row precommitted: commits\n", me+1)
#endif
				:: !anyC && !anyA && !anyP -> row[me] = ABORTED; decide(me, ABORT);
				   printf("MSC: P%d: all reachable ready: aborts\n", me+1)
				fi
			}
		fi
#ifdef FIX_PROMOTE
		;
		goto next;
promote:
		/* FIX_PROMOTE: before committing because some row is precommitted,
		 * move self and every reachable `ready` peer to `precommitted`
		 * (PreCommit, rule 2); a refusal (the peer aborted) means abort. */
		refused = false;
		atomic { if :: row[me] == READY -> row[me] = PREC :: else -> skip fi };
		for (k : 0 .. N-1) {
			if
			:: k != me ->
				atomic {
					if
					:: crashed[k] -> skip
					:: row[k] == READY -> row[k] = PREC;
					   printf("MSC: P%d: promotes P%d to PREC\n", me+1, k+1)
					:: row[k] == PREC || row[k] == COMMITTED -> skip
					:: row[k] == ABORTED || row[k] == NONE -> refused = true
					fi
				}
			:: else -> skip
			fi
		}
		atomic {
			if
			:: refused -> row[me] = ABORTED; decide(me, ABORT)
			:: else -> row[me] = COMMITTED; decide(me, COMMIT)
			fi;
			printf("MSC: P%d: after promoting, decides %e\n", me+1, row[me])
		};
next:
		skip
#endif
	od
	} unless { crashed[me] }
}

/* ================= coordinator (PROTOCOL.md, Coordinator) ================= */

/* send a request (a crashed participant's messages go nowhere) */
#define SEND(i, m) atomic { if :: crashed[i] -> skip :: else -> toP[i]!m,rnd; printf("MSC: C: %e -> P%d\n", m, i+1) fi }

/* wait for participant i's answer to this round, or its crash */
inline await(i) {
	if
	:: atomic { ansr[i] == rnd -> got = ans[i]; printf("MSC: C: P%d answers %e\n", i+1, got) }
	:: atomic { crashed[i] && ansr[i] != rnd -> got = NoAnswer; printf("MSC: C: P%d does not answer (crashed)\n", i+1) }
	fi
}

active proctype Coord() {
	byte i;
	mtype got;
	bool bad, anyC, anyA, anyP;

again:
	{
	if
	:: ccrashes > 0 -> printf("MSC: C: restarts, log %e\n", clog); goto recov   /* restart: rule 4 */
	:: else -> skip
	fi;

	/* rule 1 */
	atomic { clog = L_STARTED; collecting = true; rnd++; printf("MSC: C: log started\n") };
	for (i : 0 .. N-1) { SEND(i, CanCommit) }

	/* rule 2: collect the votes (a missing vote: the participant crashed) */
	bad = false;
	i = 0;
	do
	:: i < N ->
		await(i);
		if
		:: got == Yes -> i++
		:: else -> bad = true; break
		fi
	:: else -> break
	od;
	if
	:: bad -> atomic { collecting = false; clog = L_ABORTED; decide(C, ABORT); printf("MSC: C: log aborted\n") }; goto abortphase
	:: else -> atomic { collecting = false; clog = L_PRECOMMIT; printf("MSC: C: log precommit\n") }
	fi;

	/* rule 2/3: PreCommit, wait for every acknowledgement */
	rnd++;
	for (i : 0 .. N-1) { SEND(i, PreCommit) }
	bad = false;
	for (i : 0 .. N-1) {
		await(i);
		if
		:: got != Ok -> bad = true
		:: else -> skip
		fi
	}
	if
	:: bad -> goto recov        /* an acknowledgement that does not come (or a refusal) */
	:: else -> skip
	fi;
commitdecide:
	atomic { clog = L_COMMITTING; decide(C, COMMIT); printf("MSC: C: log committing\n") };
commitphase:
	rnd++;
	for (i : 0 .. N-1) { SEND(i, DoCommit) }
	for (i : 0 .. N-1) {
		await(i);              /* "retrying until each acknowledges": a crashed one never will */
		if
		:: got == Refused -> heuristic = true
		:: else -> skip
		fi
	}
	cdone = true;
	goto fin;

abortdecide:
	atomic { clog = L_ABORTED; decide(C, ABORT); printf("MSC: C: log aborted\n") };
abortphase:
	rnd++;
	for (i : 0 .. N-1) { SEND(i, Abort) }
	for (i : 0 .. N-1) {
		await(i);
		if
		:: got == Refused -> heuristic = true
		:: else -> skip
		fi
	}
	cdone = true;
	goto fin;

	/* rule 4: recovery (after a restart, or an acknowledgement that did not come) */
recov:
	if
	:: cdone || clog == L_NONE -> goto fin
	:: !cdone && clog == L_STARTED -> goto abortdecide
	:: !cdone && clog == L_ABORTED -> goto abortphase
	:: !cdone && (clog == L_PRECOMMIT || clog == L_COMMITTING) ->
#ifdef FIX_RECOVERY
		if
		:: clog == L_COMMITTING -> goto commitphase   /* every participant had acknowledged PreCommit */
		:: else -> skip
		fi;
		/* FIX_RECOVERY: from `precommit`, apply the participants' termination
		 * rule to a consistent snapshot of the rows (a double collect in the
		 * implementation: rows only move forward) instead of pushing
		 * PreCommit blindly. */
		atomic {
			anyC = false; anyA = false; anyP = false;
			for (i : 0 .. N-1) {
				if
				:: crashed[i] -> skip
				:: !crashed[i] && row[i] == COMMITTED -> anyC = true
				:: !crashed[i] && (row[i] == ABORTED || row[i] == NONE) -> anyA = true
				:: !crashed[i] && row[i] == PREC -> anyP = true
				:: !crashed[i] && row[i] == READY -> skip
				fi
			}
		}
		printf("MSC: C: recovery reads rows: committed %d aborted %d precommitted %d\n", anyC, anyA, anyP);
		if
		:: anyC -> goto commitdecide
		:: !anyC && anyA -> goto abortdecide
		:: !anyC && !anyA && !anyP -> goto abortdecide   /* all reachable ready */
		:: !anyC && !anyA && anyP -> skip                /* promote, then commit */
		fi;
#endif
		/* resend PreCommit; a participant that answers it has aborted makes the outcome abort */
		rnd++;
		for (i : 0 .. N-1) { SEND(i, PreCommit) }
		bad = false;
		for (i : 0 .. N-1) {
			await(i);
			if
			:: got == Refused -> bad = true
			:: else -> skip
			fi
		}
		if
		:: bad -> goto abortdecide
		:: else -> goto commitdecide
		fi
	fi;

fin:
	cfinished = true;
	goto end_c
	} unless { cdown };

	/* crashed: restart later from the durable log, or never */
	if
#ifndef NORECOVER
	:: atomic { cdown = false; collecting = false; printf("MSC: C: RESTART\n") }; goto again
#endif
	:: cdead = true; printf("MSC: C: never restarts\n")
	fi;
end_c:
	skip
}

/* ================= crashes: any party, at any point, at most once ================= */
#define CRASHP(i) atomic { ncrash < MAXCRASH && !crashed[i] -> crashed[i] = true; ncrash++; printf("MSC: P%d: CRASH\n", i+1) }
active proctype Crasher() {
end_cr:
	do
	:: atomic {
		ncrash < MAXCRASH && !cdown && !cfinished && ccrashes < MAXCCRASH ->
		cdown = true; collecting = false; ccrashes++; ncrash++;
		printf("MSC: C: CRASH\n")
	   }
	:: CRASHP(0)
	:: CRASHP(1)
#if N == 3
	:: CRASHP(2)
#endif
	:: break
	od
}

init {
	byte i;
	atomic { for (i : 0 .. N-1) { run Part(i) } }
}

/* ================= termination, at every end state ================= */
#define PDONE(i) (crashed[i] || row[i] == NONE || dec[i] != UNDEC)
#define CDONE (cdead || (cfinished && (clog == L_NONE || dec[C] != UNDEC)))
#if N == 2
#define ALLDONE (PDONE(0) && PDONE(1) && CDONE)
#define ALLCOMMIT (dec[0] == COMMIT && dec[1] == COMMIT && dec[C] == COMMIT)
#else
#define ALLDONE (PDONE(0) && PDONE(1) && PDONE(2) && CDONE)
#define ALLCOMMIT (dec[0] == COMMIT && dec[1] == COMMIT && dec[2] == COMMIT && dec[C] == COMMIT)
#endif

active proctype Final() {
	timeout ->                  /* nothing else can move: an end state */
	assert(ALLDONE);                                /* TERMINATION */
	assert(!(ncrash == 0 && nyes == N) || ALLCOMMIT) /* VALIDITY: all yes, no crash => commit */
}

#ifdef LIVENESS
ltl termination { <> ALLDONE }
#endif
