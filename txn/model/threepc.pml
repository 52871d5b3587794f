/*
 * threepc.pml -- Promela model of docplat's three-phase commit, exactly as
 * txn/PROTOCOL.md describes it: one coordinator C and N participants
 * (N=2 by default, -DN=3 for three), crash failures of every party at any
 * point, a coordinator that may restart from its durable log (rule 4), the
 * participants' timeouts with the termination protocol (ask the coordinator,
 * then the peers).  See README.md beside this file.
 *
 * Variants (spin -D...):
 *   (none)          PROTOCOL.md as written.  Spin finds agreement violations.
 *   -DFIXED         all of the fixes below (what check.sh verifies):
 *     -DFIX_PROMOTE   participant rule 3: before committing because some row
 *                     is precommitted, move self and every reachable `ready`
 *                     peer to `precommitted`; a refusal means abort.
 *     -DFIX_STATUS    coordinator rule 5: answer `commit` only once
 *                     `committing` is logged; `pending` while `precommit`.
 *     -DFIX_RECOVERY  coordinator rule 4: after a restart, wait until no
 *                     termination run that started while it was down is still
 *                     going (a grace period longer than one run); from
 *                     `precommit`, decide by the participants' termination
 *                     rule on their rows (committed -> commit; aborted ->
 *                     abort; all reachable ready -> abort; some precommitted
 *                     -> resend PreCommit, then commit) instead of resending
 *                     PreCommit blindly.
 *     -DFIX_SNAPSHOT  participant rule 3: read the peers' rows as one
 *                     consistent snapshot (collect twice until equal: rows
 *                     only move forward), not one after the other.  Needed
 *                     from three participants on.
 *   -DN=3           three participants.
 *   -DNORECOVER     the coordinator is crash-stop (never restarts).
 *   -DMAXCRASH=k    at most k crashes in a run (default: every party may
 *                   crash, each once).
 *   -DLIVENESS      add the LTL property `termination` (run pan -a -f).
 *
 * Timing (the synchronous-system assumption): message delays are bounded and
 * the participants' timeouts are much longer than the coordinator's vote/ack
 * timeouts and than any message delay.  Hence
 *   - a coordinator timeout fires exactly when the awaited participant has
 *     crashed: guard `crashed[i]` (a perfect failure detector);
 *   - a participant's deadline passes only while the coordinator is down and
 *     after every message already sent to a live participant has been
 *     handled: guard `cdown && QUIET`.  The termination protocol then runs
 *     step by step; the coordinator may restart and peers may run theirs in
 *     between.
 *
 * Properties:
 *   AGREEMENT    asserted at every decision: no party commits while another
 *                (participant, or the coordinator's logged outcome) aborted,
 *                and no party changes its decision;
 *   VALIDITY     asserted at every commit: every participant voted yes (so
 *                none voted no); at every end state (proctype Final): if all
 *                voted yes and nothing crashed, every party committed;
 *   TERMINATION  at every end state (Final, fired by `timeout` when nothing
 *                can move): every live participant that holds a row has
 *                decided, and a coordinator that is not dead for good has
 *                logged an outcome and finished; with -DLIVENESS also the LTL
 *                formula `<> ALLDONE` under weak fairness.
 *
 * Lines `MSC: ...` are printed when a trail is replayed (spin -t): they are
 * the counterexample's events.
 */

#ifndef N
#define N 2
#endif
#define C N                     /* the coordinator's index in dec[] */

#ifdef FIXED
#define FIX_TERMINATION
#define FIX_STATUS
#define FIX_RECOVERY
#endif

#ifndef MAXCRASH
#define MAXCRASH (N+1)
#endif
#ifndef MAXCCRASH
#define MAXCCRASH 1             /* coordinator crashes per run */
#endif

/* participant rows (the barrier); NOANSWER: a party that did not answer */
mtype = { NONE, READY, PREC, COMMITTED, ABORTED, NOANSWER };
/* coordinator log */
mtype = { L_NONE, L_STARTED, L_PRECOMMIT, L_COMMITTING, L_ABORTED };
/* coordinator status answers (rule 5) */
mtype = { ST_COMMIT, ST_ABORT, ST_PENDING };
/* requests C -> P, answers P -> C */
mtype = { CanCommit, PreCommit, DoCommit, Abort, Yes, No, Ok, Refused, NoAnswer };

/* decisions */
#define UNDEC  0
#define COMMIT 1
#define ABORT  2

/* ---------------- global state ---------------- */
mtype row[N] = NONE;            /* participant rows (durable)               */
bool crashed[N];                /* participant crashed (crash-stop)         */
bool interm[N];                 /* participant is running rule 3            */
mtype clog = L_NONE;            /* coordinator log (durable)                */
bool cdone;                     /* coordinator logged `done` (durable)      */
bool collecting;                /* coordinator is collecting votes          */
bool cdown;                     /* coordinator is down                      */
bool cdead;                     /* ... and will never restart               */
bool cfinished;                 /* coordinator process finished its work    */
bool cblocked;                  /* coordinator waits for a participant back */
byte ccrashes;                  /* coordinator crashes so far               */
byte ncrash;                    /* crashes so far, all parties              */
byte rnd;                       /* request round (the RPCs' ids)            */

byte dec[N+1];                  /* decisions: participants, then C          */
byte ncommit, nabort;           /* parties that decided commit / abort      */
byte nyes;                      /* participants that voted yes              */
bool anyNo;                     /* some participant voted no                */
bool heuristic;                 /* a DoCommit/Abort was refused             */

mtype ans[N];                   /* each participant's last answer ...       */
byte  ansr[N];                  /* ... and the round it answers             */
chan toP[N] = [4] of { mtype, byte };   /* requests from C (with round)     */

#if N == 2
/* every message already sent to a live participant has been handled */
#define QUIET ((crashed[0] || len(toP[0]) == 0) && (crashed[1] || len(toP[1]) == 0))
/* no live participant is running the termination protocol */
#define NOTERM ((crashed[0] || !interm[0]) && (crashed[1] || !interm[1]))
#elif N == 3
#define QUIET ((crashed[0] || len(toP[0]) == 0) && (crashed[1] || len(toP[1]) == 0) && \
               (crashed[2] || len(toP[2]) == 0))
#define NOTERM ((crashed[0] || !interm[0]) && (crashed[1] || !interm[1]) && \
                (crashed[2] || !interm[2]))
#else
#error "N must be 2 or 3"
#endif

/* coordinator rule 5: the status it answers, from its log */
#ifdef FIX_STATUS
#define CSTATUS (clog == L_COMMITTING -> ST_COMMIT : \
                 ((clog == L_PRECOMMIT || (clog == L_STARTED && collecting)) -> ST_PENDING : ST_ABORT))
#else
#define CSTATUS ((clog == L_PRECOMMIT || clog == L_COMMITTING) -> ST_COMMIT : \
                 ((clog == L_STARTED && collecting) -> ST_PENDING : ST_ABORT))
#endif

/* a party decides: agreement and validity are checked on the spot */
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
		assert(dec[who] == v)                   /* AGREEMENT: never changes its mind */
	fi;
	assert(ncommit == 0 || nabort == 0);            /* AGREEMENT */
	assert(v != COMMIT || (nyes == N && !anyNo))    /* VALIDITY: commit => all voted yes */
}

/* ======================= participant (PROTOCOL.md) ======================= */
proctype Part(byte me) {
	mtype m, st, reply;
	byte r, k;
	mtype pa[N];                /* the peers' answers */
	bool anyC, anyA, anyP, refused;
	byte intent;                /* FIX_TERMINATION: the decision being applied */

	{
end_wait:
	do
	/* rules 1 and 2: each message is handled in one local transaction */
	:: atomic {
		toP[me]?m,r ->
		if
		:: m == CanCommit ->
			if
			:: row[me] == ABORTED -> reply = No
			:: row[me] == READY || row[me] == PREC || row[me] == COMMITTED -> reply = Yes
			:: row[me] == NONE ->
				if
				:: row[me] = READY; nyes++; reply = Yes       /* reservation ok */
				:: row[me] = ABORTED; anyNo = true;            /* reservation failed */
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
		/* the answer leaves after the durable write: a crash may fall between */
		atomic { ans[me] = reply; ansr[me] = r; m = 0; r = 0; reply = 0 }

	/* rule 3: the deadline passed without a message */
	:: atomic {
		(row[me] == READY || row[me] == PREC) && cdown && QUIET ->
		interm[me] = true;
		printf("MSC: P%d: deadline passed in %e\n", me+1, row[me])
	   };
		/* ask the coordinator */
		if
		:: atomic { !cdown -> st = CSTATUS; printf("MSC: P%d: C answers %e\n", me+1, st) }
		:: atomic { cdown -> st = NOANSWER; printf("MSC: P%d: C does not answer\n", me+1) }
		fi;
		if
		:: st == ST_COMMIT ->
			atomic { row[me] = COMMITTED; decide(me, COMMIT); interm[me] = false; st = 0 }
		:: st == ST_ABORT ->
			atomic { row[me] = ABORTED; decide(me, ABORT); interm[me] = false; st = 0 }
		:: st == ST_PENDING ->
			atomic { interm[me] = false; st = 0 }   /* wait again */
		:: st == NOANSWER ->
			st = 0;
#ifdef FIX_TERMINATION
retry:
			if
			:: atomic { row[me] == COMMITTED || row[me] == ABORTED ->
				/* a peer's run decided for this participant (abort) */
				interm[me] = false }; goto next
			:: else -> skip
			fi;
#endif
			/* ask the other participants, one after the other */
			for (k : 0 .. N-1) {
				if
				:: k != me ->
					atomic {
						pa[k] = (crashed[k] -> NOANSWER : row[k]);
						printf("MSC: P%d: peer P%d answers %e\n", me+1, k+1, pa[k])
					}
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
					fi;
					pa[k] = 0
				}
				k = 0;
				if
				:: anyC ->
					printf("MSC: P%d: a peer committed\n", me+1);
					row[me] = COMMITTED; decide(me, COMMIT); interm[me] = false
#ifdef FIX_TERMINATION
				:: !anyC && anyA ->
					printf("MSC: P%d: a peer aborted (or has no row): abort the rows first\n", me+1);
					intent = ABORT
				:: !anyC && !anyA && anyP ->
					printf("MSC: P%d: some row precommitted: precommit the rows first\n", me+1);
					intent = COMMIT
				:: !anyC && !anyA && !anyP ->
					printf("MSC: P%d: all reachable rows ready: abort the rows first\n", me+1);
					intent = ABORT
#else
				:: !anyC && anyA ->
					printf("MSC: P%d: a peer aborted (or has no row)\n", me+1);
					row[me] = ABORTED; decide(me, ABORT); interm[me] = false
				:: !anyC && !anyA && anyP ->
					printf("MSC: P%d: some row precommitted\n", me+1);
					row[me] = COMMITTED; decide(me, COMMIT); interm[me] = false
				:: !anyC && !anyA && !anyP ->
					printf("MSC: P%d: all reachable rows ready\n", me+1);
					row[me] = ABORTED; decide(me, ABORT); interm[me] = false
#endif
				fi;
				anyC = false; anyA = false; anyP = false
			}
#ifdef FIX_TERMINATION
			;
			/* FIX_TERMINATION: move every reachable row, own included, in
			   participant order, to the decision's side (PreCommit: ready ->
			   precommitted; Abort: ready/none -> aborted), each a local
			   transaction at that participant; a row already on the other side
			   refuses, and the run starts over */
			if
			:: intent == UNDEC -> goto next       /* decided above (a peer committed) */
			:: else -> skip
			fi;
			refused = false;
			k = 0;
			do
			:: k < N && !refused ->
				atomic {
					if
					:: k != me && crashed[k] -> skip
					:: (k == me || !crashed[k]) && intent == COMMIT && row[k] == READY ->
						row[k] = PREC; printf("MSC: P%d: PreCommit P%d: ok\n", me+1, k+1)
					:: (k == me || !crashed[k]) && intent == COMMIT && (row[k] == PREC || row[k] == COMMITTED) ->
						skip
					:: (k == me || !crashed[k]) && intent == COMMIT && (row[k] == ABORTED || row[k] == NONE) ->
						refused = true; printf("MSC: P%d: PreCommit P%d: refused\n", me+1, k+1)
					:: (k == me || !crashed[k]) && intent == ABORT && (row[k] == READY || row[k] == NONE) ->
						row[k] = ABORTED; printf("MSC: P%d: Abort P%d: ok\n", me+1, k+1);
						decide(k, ABORT)
					:: (k == me || !crashed[k]) && intent == ABORT && row[k] == ABORTED ->
						skip
					:: (k == me || !crashed[k]) && intent == ABORT && (row[k] == PREC || row[k] == COMMITTED) ->
						refused = true; printf("MSC: P%d: Abort P%d: refused\n", me+1, k+1)
					fi;
					k++
				}
			:: else -> break
			od;
			k = 0;
			if
			:: refused ->
				/* the loser of a race is refused before it changed any row
				   the winner needs: its own row cannot be aborted yet */
				assert(intent == COMMIT || row[me] != ABORTED);
				atomic { intent = UNDEC; refused = false };
				goto retry
			:: else ->
				atomic {
					if
					:: intent == COMMIT -> row[me] = COMMITTED; decide(me, COMMIT)
					:: else -> skip             /* own row aborted in the loop */
					fi;
					intent = UNDEC;
					interm[me] = false
				}
			fi;
next:
			skip
#endif
		fi
	od
	} unless { crashed[me] }
}

/* ======================= coordinator (PROTOCOL.md) ======================= */

/* send a request; a crashed participant's messages go nowhere */
#define SEND(i, m) atomic { if :: crashed[i] -> skip \
                               :: else -> toP[i]!m,rnd; printf("MSC: C: %e -> P%d\n", m, i+1) fi }

/* participant i's answer to this round, or NoAnswer once it has crashed
   ("retrying until each acknowledges": a crashed participant never will) */
inline await(i) {
	if
	:: atomic { ansr[i] == rnd -> got = ans[i]; printf("MSC: C: P%d answers %e\n", i+1, got) }
	:: atomic { crashed[i] && ansr[i] != rnd -> got = NoAnswer;
	            printf("MSC: C: P%d does not answer (crashed)\n", i+1) }
	fi
}

active proctype Coord() {
	byte i;
	mtype got;
	bool bad, anyC, anyA, anyP;
	byte nreach;

again:
	{
	if
	:: ccrashes > 0 ->
		printf("MSC: C: restarts, log %e\n", clog);
#ifdef FIX_RECOVERY
		NOTERM;                 /* grace period: runs begun while it was down are over */
#endif
		goto recov
	:: else -> skip
	fi;

	/* rule 1 */
	atomic { clog = L_STARTED; collecting = true; rnd++; printf("MSC: C: log started\n") };
	for (i : 0 .. N-1) { SEND(i, CanCommit) }

	/* rule 2: collect the votes; a vote that does not come: that participant crashed */
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
	:: bad ->
		atomic { collecting = false; clog = L_ABORTED; printf("MSC: C: log aborted\n"); decide(C, ABORT) };
		goto abortphase
	:: else ->
		atomic { collecting = false; clog = L_PRECOMMIT; printf("MSC: C: log precommit\n") }
	fi;
	rnd++;
	for (i : 0 .. N-1) { SEND(i, PreCommit) }

	/* rule 3: every participant acknowledges PreCommit */
	bad = false;
	for (i : 0 .. N-1) {
		await(i);
		if
		:: got != Ok -> bad = true
		:: else -> skip
		fi
	}
	if
	:: bad -> goto recov        /* rule 4: an acknowledgement that does not come */
	:: else -> skip
	fi;
commitdecide:
	atomic { clog = L_COMMITTING; printf("MSC: C: log committing\n"); decide(C, COMMIT) };
commitphase:
	rnd++;
	for (i : 0 .. N-1) { SEND(i, DoCommit) }
	for (i : 0 .. N-1) {
		await(i);
		if
		:: got == Refused -> heuristic = true
		:: else -> skip
		fi
	}
	cdone = true;
	goto fin;

abortdecide:
	atomic { clog = L_ABORTED; printf("MSC: C: log aborted\n"); decide(C, ABORT) };
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

	/* rule 4: recovery, after a restart or an acknowledgement that did not come */
recov:
	if
	:: cdone || clog == L_NONE -> goto fin
	:: !cdone && clog == L_STARTED -> goto abortdecide
	:: !cdone && clog == L_ABORTED -> goto abortphase
	:: !cdone && (clog == L_PRECOMMIT || clog == L_COMMITTING) ->
#ifdef FIX_RECOVERY
		if
		:: clog == L_COMMITTING -> goto commitphase   /* all had acknowledged PreCommit */
		:: clog == L_PRECOMMIT && ccrashes == 0 -> goto resend
		   /* an acknowledgement did not come, but C was never down: no
		      participant can have run rule 3, resend PreCommit as written */
		:: clog == L_PRECOMMIT && ccrashes > 0 -> skip
		fi;
		atomic {
			anyC = false; anyA = false; anyP = false; nreach = 0;
			for (i : 0 .. N-1) {
				if
				:: crashed[i] -> skip
				:: !crashed[i] -> nreach++
				fi;
				if
				:: crashed[i] -> skip
				:: !crashed[i] && row[i] == COMMITTED -> anyC = true
				:: !crashed[i] && (row[i] == ABORTED || row[i] == NONE) -> anyA = true
				:: !crashed[i] && row[i] == PREC -> anyP = true
				:: !crashed[i] && row[i] == READY -> skip
				fi
			}
			printf("MSC: C: reads the rows: committed %d, aborted %d, precommitted %d\n", anyC, anyA, anyP)
		}
		if
		:: nreach == 0 -> goto blocked                   /* no participant answers */
		:: nreach > 0 && anyC -> goto commitdecide
		:: nreach > 0 && !anyC && anyA -> goto abortdecide
		:: nreach > 0 && !anyC && !anyA && !anyP -> goto abortdecide   /* all reachable rows ready */
		:: nreach > 0 && !anyC && !anyA && anyP -> skip  /* resend PreCommit, then commit */
		fi;
resend:
#endif
		/* resend PreCommit, then DoCommit; a participant that answers it
		   has aborted makes the outcome abort */
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
	goto end_c;

blocked:
	/* FIX_RECOVERY, total failure: every participant is down, any of them
	   may have decided either way; wait until one comes back (in this
	   crash-stop model none ever does) */
	atomic { cblocked = true; printf("MSC: C: no participant answers: waits\n") };
end_blocked:
	(false)
	} unless { cdown };

	/* crashed: restart later from the durable log, or never */
	if
#ifndef NORECOVER
	:: atomic { cdown = false; collecting = false; printf("MSC: C: RESTART\n") }; goto again
#endif
	:: cdead = true; printf("MSC: C: stays down for good\n")
	fi;
end_c:
	skip
}

/* ============ crashes: any party, at any point, each at most once ============ */
#define CRASHP(i) atomic { ncrash < MAXCRASH && !crashed[i] -> crashed[i] = true; ncrash++; \
                           printf("MSC: P%d: CRASH\n", i+1) }
active proctype Crasher() {
end_cr:
	do
	:: atomic {
		ncrash < MAXCRASH && ccrashes < MAXCCRASH && !cdown && !cfinished ->
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

/* ==================== termination, at every end state ==================== */
#define PDONE(i) (crashed[i] || row[i] == NONE || dec[i] != UNDEC)
#if N == 2
#define ALLCRASHED (crashed[0] && crashed[1])
#else
#define ALLCRASHED (crashed[0] && crashed[1] && crashed[2])
#endif
/* the coordinator has finished, or is dead for good, or (FIX_RECOVERY) it
   restarted after every participant crashed and waits for one to return */
#define CDONE (cdead || (cfinished && (clog == L_NONE || dec[C] != UNDEC)) || (cblocked && ALLCRASHED))
#if N == 2
#define ALLDONE (PDONE(0) && PDONE(1) && CDONE)
#define ALLCOMMIT (dec[0] == COMMIT && dec[1] == COMMIT && dec[C] == COMMIT)
#else
#define ALLDONE (PDONE(0) && PDONE(1) && PDONE(2) && CDONE)
#define ALLCOMMIT (dec[0] == COMMIT && dec[1] == COMMIT && dec[2] == COMMIT && dec[C] == COMMIT)
#endif

active proctype Final() {
	timeout ->                  /* nothing else can move: an end state */
	assert(ALLDONE);                                  /* TERMINATION */
	assert(!(ncrash == 0 && nyes == N) || ALLCOMMIT)  /* VALIDITY: all yes, no crash => all commit */
}

#ifdef LIVENESS
ltl termination { <> ALLDONE }
#endif
